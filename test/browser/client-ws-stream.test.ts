// gaw/browser's client.stream() over the WebSocket, run in Node with the `ws` package's WebSocket
// against a GawServer's bridge: items decoded through the registry in order, the return value, an
// error mid-stream thrown by the loop after its items, break cancelling the server's generator
// (its finally runs), the caller's abort, and the clear error over HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { GawBrowserClient, Registry, RemoteError, UsageError } from '../../src/browser/index.js';
import type { WebSocketConstructor } from '../../src/browser/index.js';
import { AbortError } from '../../src/errors.js';
import { ServiceError } from '../../src/errors.js';
import { register } from '../../src/serializable/index.js';
import type { GawServer } from '../../src/server/index.js';
import { entrypoint } from '../../src/server/service.js';
import { makeSecret, startServer, within } from '../helpers/server-fixtures.js';

class Cell {
  constructor(public n = 0) {}
}
register(Cell, { tag: 'BrowserStreamCell' });

let stopped: () => void = () => {};

class Sheet {
  static serviceName = 'sheet';

  @entrypoint
  async *cells(count: number): AsyncGenerator<Cell, string> {
    for (let n = 0; n < count; n++) yield new Cell(n);
    return `${count} cells`;
  }

  @entrypoint
  async *broken(after: number): AsyncGenerator<number> {
    for (let n = 0; n < after; n++) yield n;
    throw new ServiceError(-32050, 'the sheet tore', { after });
  }

  @entrypoint
  async *endless(): AsyncGenerator<number> {
    try {
      for (let n = 0; ; n++) {
        await new Promise((resolve) => setImmediate(resolve));
        yield n;
      }
    } finally {
      stopped();
    }
  }
}

const ws = WebSocket as unknown as WebSocketConstructor;
let server: GawServer;

function client(): GawBrowserClient {
  return new GawBrowserClient({
    url: `ws://127.0.0.1:${server.httpAddress!.port}/api`,
    registry: new Registry().register(Cell, { tag: 'BrowserStreamCell' }),
    WebSocket: ws,
  });
}

function finallyRuns(): Promise<void> {
  return new Promise<void>((resolve) => {
    stopped = resolve;
  });
}

test('client.stream() over a WebSocket: items decoded in order, then the return value; an error after its items', {
  timeout: 60_000,
}, async () => {
  server = await startServer({ secret: makeSecret(), http: { port: 0, websocket: true, isOpen: true } }, Sheet);
  const page = client();
  try {
    const stream = page.stream<Cell>('sheet.cells', [4]);
    const cells: Cell[] = [];
    for await (const cell of stream) cells.push(cell);
    assert.ok(cells.every((cell) => cell instanceof Cell));
    assert.deepEqual(
      cells.map((cell) => cell.n),
      [0, 1, 2, 3],
    );
    assert.equal(stream.returnValue, '4 cells');
    const items: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const n of page.stream<number>('sheet.broken', [2])) items.push(n);
      })(),
      (err: unknown) => {
        assert.ok(err instanceof RemoteError, String(err));
        assert.equal(err.rpcCode, -32050);
        assert.deepEqual(err.data, { after: 2 });
        return true;
      },
    );
    assert.deepEqual(items, [0, 1]);
  } finally {
    page.close();
    await server.close();
  }
});

test("break cancels the stream on the server (its finally runs); the caller's abort ends the loop with an AbortError", {
  timeout: 60_000,
}, async () => {
  server = await startServer({ secret: makeSecret(), http: { port: 0, websocket: true, isOpen: true } }, Sheet);
  const page = client();
  try {
    let finallyRan = finallyRuns();
    let taken = 0;
    for await (const _ of page.stream('sheet.endless')) if (++taken === 3) break;
    await within(finallyRan, 10_000, "the generator's finally after break");
    finallyRan = finallyRuns();
    const controller = new AbortController();
    taken = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of page.stream('sheet.endless', [], { signal: controller.signal }))
          if (++taken === 3) controller.abort();
      })(),
      AbortError,
    );
    await within(finallyRan, 10_000, "the generator's finally after the abort");
    // The client goes on: a new stream on the same socket still works.
    const again: Cell[] = [];
    for await (const cell of page.stream<Cell>('sheet.cells', [2])) again.push(cell);
    assert.equal(again.length, 2);
  } finally {
    page.close();
    await server.close();
  }
});

test('client.stream() over HTTP says it needs a WebSocket', () => {
  const page = new GawBrowserClient({ url: 'http://127.0.0.1:1/api' });
  assert.throws(
    () => page.stream('sheet.cells', [1]),
    (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.match(err.message, /WebSocket/);
      return true;
    },
  );
});
