// GawServer under load on one connection: 1,000 concurrent calls with slow and fast handlers mixed
// (replies leave as each call finishes), the per-connection in-flight cap (later requests wait,
// everything completes), batches at and over the cap, and replies over the frame cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawClient } from '../../src/client/index.js';
import { entrypoint } from '../../src/server/index.js';
import { RemoteError } from '../../src/errors.js';
import { rpcErrorCodes } from '../../src/jsonrpc/index.js';
import { Arrivals, Gate, RawClient, makeSecret, startServer, within } from '../helpers/server-fixtures.js';

let gate = new Gate();
let arrivals = new Arrivals(0);
let running = 0;
let maxRunning = 0;

class LoadService {
  static serviceName = 'load';
  @entrypoint fast(n: number): number {
    return n * 2;
  }
  @entrypoint async slow(n: number): Promise<number> {
    arrivals.arrive();
    await gate.promise;
    return n * 3;
  }
  @entrypoint async counted(n: number): Promise<number> {
    running++;
    maxRunning = Math.max(maxRunning, running);
    arrivals.arrive();
    try {
      await gate.promise;
      return n;
    } finally {
      running--;
    }
  }
  @entrypoint big(chars: number): string {
    return 'x'.repeat(chars);
  }
}

function reset(expected: number): void {
  gate = new Gate();
  arrivals = new Arrivals(expected);
  running = 0;
  maxRunning = 0;
}

test('1,000 concurrent calls on one encrypted connection are all answered, fast ones before slow ones finish', async () => {
  reset(500);
  const secret = makeSecret();
  const server = await startServer({ secret, encrypt: true, maxInFlight: 2_000 }, LoadService);
  const client = new GawClient({ port: server.address.port, secret, encrypt: true, poolSize: 1 });
  try {
    const slow: Promise<number>[] = [];
    const fast: Promise<number>[] = [];
    for (let i = 0; i < 1_000; i++) {
      if (i % 2 === 0) slow.push(client.call<number>('load.slow', [i]));
      else fast.push(client.call<number>('load.fast', [i]));
    }
    const fastResults = await within(Promise.all(fast), 10_000, '500 fast replies');
    assert.deepEqual(
      fastResults,
      fast.map((_, k) => (2 * k + 1) * 2),
    );
    await within(arrivals.all, 10_000, 'every slow handler starting');
    assert.equal(client.pendingCount, 500, 'the slow calls are still waiting while the fast ones are answered');
    gate.open();
    const slowResults = await within(Promise.all(slow), 10_000, '500 slow replies');
    assert.deepEqual(
      slowResults,
      slow.map((_, k) => 2 * k * 3),
    );
    assert.equal(client.connectionCount, 1);
    assert.equal(server.connectionCount, 1);
    assert.equal(client.pendingCount, 0);
  } finally {
    gate.open();
    await client.close();
    await server.close();
  }
});

test('with maxInFlight 4 no more than 4 handlers run at once on a connection, and every request is answered', async () => {
  reset(4);
  const server = await startServer({ maxInFlight: 4 }, LoadService);
  const client = await RawClient.open(server.address.port);
  try {
    // Three frames of requests, each frame holding more than the cap.
    for (let frame = 0; frame < 3; frame++) {
      for (let i = 0; i < 10; i++)
        client.send({ jsonrpc: '2.0', id: frame * 10 + i, method: 'load.counted', params: [frame * 10 + i] });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await within(arrivals.all, 5_000, 'four handlers starting');
    assert.equal(arrivals.seen, 4, 'only the first four requests started');
    gate.open();
    const ids = new Set<number>();
    for (let i = 0; i < 30; i++) {
      const reply = (await client.next()) as { id: number; result: number };
      assert.equal(reply.result, reply.id);
      ids.add(reply.id);
    }
    assert.equal(ids.size, 30);
    assert.equal(maxRunning, 4);
  } finally {
    gate.open();
    client.connection.destroy();
    await server.close();
  }
});

test('a GawClient pushing 1,000 calls through a connection capped at 8 in flight gets every result', async () => {
  reset(0);
  gate.open();
  const server = await startServer({ maxInFlight: 8 }, LoadService);
  const client = new GawClient({ port: server.address.port, poolSize: 1 });
  try {
    const calls = Array.from({ length: 1_000 }, (_, i) => client.call<number>('load.counted', [i]));
    assert.deepEqual(
      await within(Promise.all(calls), 10_000, '1,000 capped calls'),
      calls.map((_, i) => i),
    );
    assert.ok(maxRunning <= 8, `at most 8 ran at once, saw ${maxRunning}`);
  } finally {
    await client.close();
    await server.close();
  }
});

test('a batch of 100 calls is answered in full and a batch of 101 is refused whole with -32600', async () => {
  const server = await startServer({}, LoadService);
  const client = new GawClient({ port: server.address.port });
  try {
    const hundred = await client.batch(Array.from({ length: 100 }, (_, i) => ({ method: 'load.fast', params: [i] })));
    assert.deepEqual(
      hundred,
      Array.from({ length: 100 }, (_, i) => ({ ok: true, result: i * 2 })),
    );
    const tooMany = await client.batch(Array.from({ length: 101 }, (_, i) => ({ method: 'load.fast', params: [i] })));
    assert.equal(tooMany.length, 101);
    for (const outcome of tooMany) {
      assert.equal(outcome.ok, false);
      if (!outcome.ok) {
        assert.equal(outcome.error.rpcCode, rpcErrorCodes.INVALID_REQUEST);
        assert.match(outcome.error.message, /101.*100/);
      }
    }
    assert.equal(client.pendingCount, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

test('a reply larger than the frame cap becomes a -32603 error and the connection stays usable', async () => {
  const server = await startServer({ maxPayloadBytes: 4_096 }, LoadService);
  const client = new GawClient({ port: server.address.port, poolSize: 1 });
  try {
    assert.equal((await client.call<string>('load.big', [100])).length, 100);
    await assert.rejects(client.call('load.big', [10_000]), (err: RemoteError) => {
      assert.ok(err instanceof RemoteError);
      assert.equal(err.rpcCode, rpcErrorCodes.INTERNAL_ERROR);
      assert.match(err.message, /frame cap/);
      return true;
    });
    assert.equal(await client.call('load.fast', [21]), 42);
    assert.equal(server.connectionCount, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

test('a flood of pipelined requests past the in-flight cap waits in order: within maxWaitingBytes nothing is refused or lost', async () => {
  reset(64);
  const server = await startServer({ maxInFlight: 64 }, LoadService);
  const client = await RawClient.open(server.address.port, { codec: 'msgpack' });
  try {
    // 20,000 requests queued in one tick leave in several frames (at most 4,096 messages each).
    const total = 20_000;
    for (let id = 0; id < total; id++) client.send({ jsonrpc: '2.0', id, method: 'load.counted', params: [id] });
    await within(arrivals.all, 10_000, 'the first 64 requests starting');
    assert.ok(server.connectionCount === 1);
    gate.open();
    const answered = new Set<number>();
    for (let i = 0; i < total; i++) {
      const reply = (await client.next()) as { id: number; result: number };
      assert.equal(reply.result, reply.id);
      answered.add(reply.id);
    }
    assert.equal(answered.size, total);
    assert.equal(maxRunning, 64);
  } finally {
    gate.open();
    client.connection.destroy();
    await server.close();
  }
});
