// gaw/browser's WebSocket transport run in Node, with the `ws` package's WebSocket (Node 20 has no
// global one), against the bridge's endpoint on /api of an encrypted server: calls with class tags,
// notifications, batches, the call's budget reaching the handler, pushes as callbacks, a bridge that
// is down failing at once, and the error when no WebSocket class is at hand. Chromium runs the same
// client in test/browser/chromium-websocket.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { GawBrowserClient, Registry } from '../../src/browser/index.js';
import type { WebSocketConstructor } from '../../src/browser/index.js';
import { callContext } from '../../src/context.js';
import { ConnectionError, type GawError } from '../../src/errors.js';
import { register } from '../../src/serializable/index.js';
import type { GawServer } from '../../src/server/index.js';
import { entrypoint } from '../../src/server/service.js';
import { makeSecret, startServer, until } from '../helpers/server-fixtures.js';

class Point {
  constructor(
    public x = 0,
    public y = 0,
  ) {}
}
register(Point, { tag: 'BrowserWsPoint' });

const seen = { notes: [] as string[], budgets: [] as number[] };
let server: GawServer;

class Geometry {
  static serviceName = 'geometry';
  @entrypoint mirror(p: Point) {
    return new Point(p.y, p.x);
  }
  @entrypoint note(text: string) {
    seen.notes.push(text);
  }
  @entrypoint budget() {
    seen.budgets.push(callContext()!.remainingMs());
    server.webSockets.notify(callContext()!.peer, 'geometry.moved', new Point(1, 2));
    return true;
  }
}

const token = 'browser-ws-token';
const ws = WebSocket as unknown as WebSocketConstructor;

test('over ws in Node: class tags both ways, notify, batch, the budget reaches the handler, a push arrives decoded', async () => {
  server = await startServer(
    { secret: makeSecret(), encrypt: true, http: { port: 0, token, websocket: true } },
    Geometry,
  );
  const registry = new Registry().register(Point, { tag: 'BrowserWsPoint' });
  const pushed: [string, unknown][] = [];
  const client = new GawBrowserClient({
    url: `ws://127.0.0.1:${server.httpAddress!.port}/api`,
    token,
    registry,
    WebSocket: ws,
    onNotification: (method, params) => pushed.push([method, params]),
  });
  try {
    const mirrored = await client.call('geometry.mirror', [new Point(3, 4)]);
    assert.ok(mirrored instanceof Point);
    assert.deepEqual(mirrored, new Point(4, 3));
    await client.notify('geometry.note', ['over ws']);
    await until(() => seen.notes.includes('over ws'), 'the notification ran');
    const [one, two] = await client.batch([
      { method: 'geometry.mirror', params: [new Point(1, 0)] },
      { method: 'geometry.note', params: ['in a batch'], isNotification: true },
      { method: 'geometry.nope' },
    ]);
    assert.deepEqual(one, { ok: true, result: new Point(0, 1) });
    assert.equal(two?.ok, false);
    assert.equal(two?.ok === false && two.error.rpcCode, -32601);
    assert.equal(await client.call('geometry.budget', [], { timeoutMs: 2_000 }), true);
    const [budget] = seen.budgets;
    assert.ok(budget !== undefined && budget <= 2_000 && budget > 1_000, `the handler had ${budget} ms left`);
    assert.equal(pushed.length, 1);
    assert.equal(pushed[0]![0], 'geometry.moved');
    assert.ok(pushed[0]![1] instanceof Point, 'the pushed class is decoded by the registry');
  } finally {
    client.close();
    await server.close();
  }
});

test('over ws, a bridge that is down fails a call at once with ConnectionError GAW_ERR_CONN_REFUSED, and a closed client refuses', async () => {
  server = await startServer({ http: { port: 0, websocket: true } }, Geometry);
  const url = `ws://127.0.0.1:${server.httpAddress!.port}/api`;
  await server.close();
  const client = new GawBrowserClient({ url, WebSocket: ws, timeoutMs: 20_000 });
  const started = Date.now();
  await assert.rejects(client.call('geometry.budget'), (err: GawError) => {
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.code, 'GAW_ERR_CONN_REFUSED');
    assert.match(err.message, /could not open a WebSocket/);
    return true;
  });
  assert.ok(Date.now() - started < 10_000, 'not left waiting for its 20 s timeout');
  client.close();
  await assert.rejects(client.call('geometry.budget'), { code: 'GAW_ERR_CLOSED' });
});

test('without a WebSocket class (Node 20 has no global one) the client says to pass one', {
  skip: (globalThis as { WebSocket?: unknown }).WebSocket !== undefined && 'this Node has a global WebSocket',
}, () => {
  assert.throws(() => new GawBrowserClient({ url: 'ws://127.0.0.1:1/api' }), {
    code: 'GAW_ERR_INVALID_OPTION',
    message: /pass options\.WebSocket/,
  });
});
