// A GawServer connection at its in-flight cap, over real sockets: it keeps reading, so rpc.ping is
// answered while every slot is taken (a busy server is never declared dead), requests past the cap
// wait in order within maxWaitingBytes and are refused -32002 past it, a batch takes one slot per
// element, and a reply over the frame cap is logged as the error it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawClient } from '../../src/client/index.js';
import { entrypoint } from '../../src/server/index.js';
import { RemoteError, TimeoutError } from '../../src/errors.js';
import { rpcErrorCodes } from '../../src/jsonrpc/index.js';
import { Arrivals, Gate, RawClient, capturingLogger, startServer, until, within } from '../helpers/server-fixtures.js';

let gate = new Gate();
let arrivals = new Arrivals(0);
let started = 0;

class BusyService {
  static serviceName = 'busy';
  @entrypoint async slow(n: number): Promise<number> {
    started++;
    arrivals.arrive();
    await gate.promise;
    return n;
  }
  @entrypoint fast(n: number): number {
    return n * 2;
  }
  @entrypoint big(chars: number): string {
    return 'x'.repeat(chars);
  }
}

function reset(expected: number): void {
  gate = new Gate();
  arrivals = new Arrivals(expected);
  started = 0;
}

const ping = (id: number) => ({ jsonrpc: '2.0', id, method: 'rpc.ping' });
const slow = (id: number) => ({ jsonrpc: '2.0', id, method: 'busy.slow', params: [id] });
const nextTick = () => new Promise((resolve) => setImmediate(resolve));

test('a call that times out behind 8 slow calls at maxInFlight 8 gets its rpc.ping answered, and the 8 slow calls still succeed', async () => {
  reset(8);
  const logger = capturingLogger();
  const server = await startServer({ maxInFlight: 8, logger }, BusyService);
  const client = new GawClient({ port: server.address.port, poolSize: 1, retries: 0 });
  try {
    const slowCalls = Array.from({ length: 8 }, (_, i) => client.call<number>('busy.slow', [i]));
    await within(arrivals.all, 5_000, 'eight slow handlers starting');
    await assert.rejects(
      client.call('busy.fast', [1], { timeoutMs: 600 }),
      (err: unknown) => err instanceof TimeoutError && err.code === 'GAW_ERR_CALL_TIMEOUT',
    );
    // The client probes the silent connection with rpc.ping; a busy server answers it at once.
    await until(
      () => logger.lines.some((line) => line.msg === 'rpc call' && line.obj.method === 'rpc.ping'),
      'the server answering the probe',
      1_500,
    );
    gate.open();
    assert.deepEqual(await within(Promise.all(slowCalls), 5_000, 'the eight slow replies'), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(client.connectionCount, 1, 'the connection was kept');
    assert.equal(await client.call('busy.fast', [21]), 42);
  } finally {
    gate.open();
    await client.close();
    await server.close();
  }
});

test('at the in-flight cap with requests waiting, rpc.ping sent in a later frame is answered before any slot frees', async () => {
  reset(4);
  const server = await startServer({ maxInFlight: 4 }, BusyService);
  const client = await RawClient.open(server.address.port);
  try {
    for (let id = 1; id <= 20; id++) client.send(slow(id));
    await within(arrivals.all, 5_000, 'four handlers starting');
    await nextTick();
    client.send(ping(100));
    assert.deepEqual(await client.next(2_000), { jsonrpc: '2.0', id: 100, result: 'pong' });
    assert.equal(started, 4, 'nothing else started');
    gate.open();
    const ids = new Set<number>();
    for (let i = 0; i < 20; i++) ids.add(((await client.next()) as { id: number }).id);
    assert.equal(ids.size, 20, 'every waiting request ran once the slots freed');
  } finally {
    gate.open();
    client.connection.destroy();
    await server.close();
  }
});

test('past maxWaitingBytes requests are refused with -32002 (not run, safe to retry) while rpc.ping is still answered', async () => {
  reset(2);
  const server = await startServer({ maxInFlight: 2, maxWaitingBytes: 1_000 }, BusyService);
  const client = await RawClient.open(server.address.port);
  try {
    client.send(slow(1));
    client.send(slow(2));
    await within(arrivals.all, 5_000, 'two handlers starting');
    // Each waiting request is charged its size plus a fixed overhead: a few fit in 1,000 bytes.
    for (let id = 3; id <= 40; id++) client.send(slow(id));
    client.send(ping(100));
    const refused: number[] = [];
    let pong: unknown;
    while (pong === undefined) {
      const reply = (await client.next(2_000)) as {
        id: number;
        result?: unknown;
        error?: { code: number; message: string };
      };
      if (reply.id === 100) pong = reply.result;
      else {
        assert.equal(reply.error?.code, rpcErrorCodes.OVERLOADED);
        assert.match(reply.error!.message, /not run/);
        refused.push(reply.id);
      }
    }
    assert.equal(pong, 'pong');
    assert.ok(refused.length > 10 && refused.length < 38, `some waited, the rest were refused (${refused.length})`);
    gate.open();
    const ran = new Set<number>();
    for (let i = 0; i < 40 - refused.length; i++) {
      const reply = (await client.next()) as { id: number; result: number };
      assert.equal(reply.result, reply.id);
      ran.add(reply.id);
    }
    assert.equal(ran.size + refused.length, 40);
    assert.equal(started, 40 - refused.length, 'no refused request ran');
  } finally {
    gate.open();
    client.connection.destroy();
    await server.close();
  }
});

test('a batch takes one in-flight slot per element: 30 batches of 100 hanging calls start 200 handlers at maxInFlight 256, and all complete', async () => {
  reset(200);
  const server = await startServer({}, BusyService);
  const client = await RawClient.open(server.address.port);
  try {
    for (let b = 0; b < 30; b++) client.send(Array.from({ length: 100 }, (_, i) => slow(b * 100 + i)));
    client.send(ping(-1));
    // The pong comes once every batch before it was read: whatever could start has started.
    assert.deepEqual(await client.next(5_000), { jsonrpc: '2.0', id: -1, result: 'pong' });
    await within(arrivals.all, 5_000, '200 handlers starting');
    assert.equal(started, 200, 'two batches run; the third needs 100 slots and only 56 are free');
    gate.open();
    let answered = 0;
    for (let b = 0; b < 30; b++) {
      const replies = (await client.next(5_000)) as { id: number; result: number }[];
      assert.equal(replies.length, 100);
      for (const reply of replies) assert.equal(reply.result, reply.id);
      answered += replies.length;
    }
    assert.equal(answered, 3_000);
    assert.equal(started, 3_000);
  } finally {
    gate.open();
    client.connection.destroy();
    await server.close();
  }
});

test('a batch with more elements than maxInFlight is refused whole with -32600 and nothing runs; one that fits runs', async () => {
  reset(0);
  gate.open();
  const server = await startServer({ maxInFlight: 8 }, BusyService);
  const client = new GawClient({ port: server.address.port });
  try {
    const tooMany = await client.batch(Array.from({ length: 9 }, (_, i) => ({ method: 'busy.slow', params: [i] })));
    assert.equal(tooMany.length, 9);
    for (const outcome of tooMany) {
      assert.equal(outcome.ok, false);
      if (!outcome.ok) {
        assert.equal(outcome.error.rpcCode, rpcErrorCodes.INVALID_REQUEST);
        assert.match(outcome.error.message, /batch of 9 .*maxInFlight.* 8/);
      }
    }
    assert.equal(started, 0, 'nothing ran');
    const fits = await client.batch(Array.from({ length: 8 }, (_, i) => ({ method: 'busy.slow', params: [i] })));
    assert.deepEqual(
      fits,
      Array.from({ length: 8 }, (_, i) => ({ ok: true, result: i })),
    );
  } finally {
    await client.close();
    await server.close();
  }
});

test('a reply over the frame cap is logged as an error, not as ok, and the caller gets -32603 naming the cap', async () => {
  const logger = capturingLogger();
  const server = await startServer({ maxPayloadBytes: 4_096, logger }, BusyService);
  const client = new GawClient({ port: server.address.port, poolSize: 1 });
  try {
    await assert.rejects(client.call('busy.big', [10_000]), (err: unknown) => {
      assert.ok(err instanceof RemoteError);
      assert.equal(err.rpcCode, rpcErrorCodes.INTERNAL_ERROR);
      assert.match(err.message, /reply is \d+ bytes, over the 409\d-byte frame cap \(maxPayloadBytes\)/);
      return true;
    });
    assert.equal((await client.call<string>('busy.big', [100])).length, 100);
    const calls = logger.lines.filter((line) => line.msg === 'rpc call' && line.obj.method === 'busy.big');
    assert.deepEqual(
      calls.map((line) => line.obj.outcome),
      ['reply too large', 'ok'],
    );
    const warning = logger.lines.find((line) => line.level === 'warn' && /frame cap/.test(line.msg));
    assert.ok(warning, 'a warning names the frame cap');
    assert.equal(warning.obj.method, 'busy.big');
    // A batch: only the element that is too large becomes an error, and only it is logged as one.
    const batch = await client.batch([
      { method: 'busy.big', params: [10] },
      { method: 'busy.big', params: [5_000] },
    ]);
    assert.equal(batch[0]!.ok, true);
    assert.equal(batch[1]!.ok, false);
    assert.deepEqual(
      logger.lines
        .filter((line) => line.msg === 'rpc call' && line.obj.method === 'busy.big')
        .map((l) => l.obj.outcome),
      ['reply too large', 'ok', 'ok', 'reply too large'],
    );
  } finally {
    await client.close();
    await server.close();
  }
});
