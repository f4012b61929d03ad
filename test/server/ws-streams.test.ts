// A streaming method over the WebSocket on /api: a request with "gaw": {"stream": true} gets one
// rpc.stream notification per item, then its response; -32020 without it; rpc.cancel, the socket's
// close and the deadline stop the generator; a reader that stops reading stops the producer.
// Real `ws` sockets on loopback against a GawServer's bridge.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GawServer } from '../../src/index.js';
import { ServiceError } from '../../src/errors.js';
import { entrypoint } from '../../src/server/index.js';
import { rpcErrorCodes } from '../../src/jsonrpc/index.js';
import { track } from '../helpers/cleanup.js';
import { makeSecret, within } from '../helpers/server-fixtures.js';
import { WsRpc } from './ws-helpers.js';

let stopped: () => void = () => {};
let steps = 0;

class Rows {
  static serviceName = 'rows';

  @entrypoint
  async *count(n: number): AsyncGenerator<{ i: number }, string> {
    for (let i = 0; i < n; i++) yield { i };
    return `counted ${n}`;
  }

  @entrypoint
  async *failing(after: number): AsyncGenerator<number> {
    for (let i = 0; i < after; i++) yield i;
    throw new ServiceError(-32050, 'ran out of rows', { after });
  }

  /** 16 KiB items until stopped, counting its steps. */
  @entrypoint
  async *endless(): AsyncGenerator<string> {
    const item = 'z'.repeat(16 * 1024);
    try {
      for (;;) {
        steps++;
        yield item;
      }
    } finally {
      stopped();
    }
  }

  @entrypoint
  plain(): string {
    return 'not a stream';
  }
}

const stream = { gaw: { stream: true } };

async function open(): Promise<WsRpc> {
  const server = new GawServer({
    host: '127.0.0.1',
    port: 0,
    secret: makeSecret(),
    http: { port: 0, websocket: true, isOpen: true },
  }).add(Rows);
  await server.listen();
  track(() => server.close());
  return WsRpc.open(`ws://127.0.0.1:${server.httpAddress!.port}/api`);
}

function finallyRuns(): Promise<void> {
  return new Promise<void>((resolve) => {
    stopped = resolve;
  });
}

async function stillAt(): Promise<number> {
  let last = -1;
  let same = 0;
  const deadline = performance.now() + 20_000;
  while (same < 5) {
    assert.ok(performance.now() < deadline, `the producer kept going (${steps} steps)`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    same = steps === last ? same + 1 : 0;
    last = steps;
  }
  return last;
}

test('with gaw.stream a stream is one rpc.stream notification per item, then the response', {
  timeout: 30_000,
}, async () => {
  const rpc = await open();
  const reply = await rpc.call('rows.count', [3], stream);
  assert.deepEqual(reply, { jsonrpc: '2.0', id: 1, result: 'counted 3' });
  assert.deepEqual(
    rpc.notifications,
    [0, 1, 2].map((i) => ({ jsonrpc: '2.0', method: 'rpc.stream', params: { id: 1, item: { i } } })),
  );
  await rpc.close();
});

test('an error after 2 items: 2 notifications, then the error response with its code and data', {
  timeout: 30_000,
}, async () => {
  const rpc = await open();
  const reply = await rpc.request({ jsonrpc: '2.0', id: 'f', method: 'rows.failing', params: [2], ...stream });
  assert.deepEqual(reply, {
    jsonrpc: '2.0',
    id: 'f',
    error: { code: -32050, message: 'ran out of rows', data: { after: 2 } },
  });
  assert.deepEqual(
    rpc.notifications.map((n) => n.params),
    [
      { id: 'f', item: 0 },
      { id: 'f', item: 1 },
    ],
  );
  await rpc.close();
});

test('a stream without gaw.stream gets -32020 naming it; a method that does not stream answers as usual with it', {
  timeout: 30_000,
}, async () => {
  const rpc = await open();
  const mismatch = (await rpc.call('rows.count', [3])) as { error: { code: number; message: string } };
  assert.equal(mismatch.error.code, rpcErrorCodes.STREAM_MISMATCH);
  assert.match(mismatch.error.message, /rows\.count streams its result/);
  assert.deepEqual(await rpc.call('rows.plain', [], stream), { jsonrpc: '2.0', id: 2, result: 'not a stream' });
  const [inBatch] = await rpc.batch([{ jsonrpc: '2.0', id: 3, method: 'rows.count', params: [1], ...stream }]);
  assert.equal((inBatch!.error as { code: number }).code, rpcErrorCodes.STREAM_MISMATCH);
  assert.equal(rpc.notifications.length, 0);
  await rpc.close();
});

test("rpc.cancel mid-stream ends it and runs the generator's finally; so does closing the socket", {
  timeout: 30_000,
}, async () => {
  const rpc = await open();
  let finallyRan = finallyRuns();
  const reply = rpc.call('rows.endless', [], stream);
  await rpc.notificationCount(3);
  rpc.notify('rpc.cancel', { id: 1 });
  const cancelled = (await within(reply, 10_000, 'the cancelled reply')) as { error: { code: number } };
  assert.equal(cancelled.error.code, rpcErrorCodes.CANCELLED);
  await within(finallyRan, 10_000, "the generator's finally after rpc.cancel");
  finallyRan = finallyRuns();
  const before = rpc.notifications.length;
  void rpc.call('rows.endless', [], stream);
  await rpc.notificationCount(before + 3);
  await rpc.close();
  await within(finallyRan, 10_000, "the generator's finally after the close");
});

test('gaw.timeoutMs bounds the whole stream: a -32004 response after the items, and the generator stops', {
  timeout: 30_000,
}, async () => {
  const rpc = await open();
  const finallyRan = finallyRuns();
  const reply = (await rpc.call('rows.endless', [], { gaw: { stream: true, timeoutMs: 200 } })) as {
    error: { code: number };
  };
  assert.equal(reply.error.code, rpcErrorCodes.DEADLINE_EXCEEDED);
  assert.ok(rpc.notifications.length > 0);
  await within(finallyRan, 10_000, "the generator's finally");
  await rpc.close();
});

test('a reader that stops reading stops the producer; reading again resumes it', { timeout: 60_000 }, async () => {
  const rpc = await open();
  steps = 0;
  const finallyRan = finallyRuns();
  void rpc.call('rows.endless', [], stream);
  await rpc.notificationCount(1);
  rpc.ws.pause();
  const paused = await stillAt();
  assert.ok(paused * 16 * 1024 < 64 * 1024 * 1024, `${paused} items were made while nobody read`);
  rpc.ws.resume();
  const deadline = performance.now() + 20_000;
  while (steps < paused + 50) {
    assert.ok(performance.now() < deadline, 'the producer resumed when the reader read again');
    await new Promise((resolve) => setImmediate(resolve));
  }
  await rpc.close();
  await within(finallyRan, 10_000, "the generator's finally");
});
