// GawServer.close() over real connections: CLOSE frames, in-flight calls drained, requests after
// CLOSE refused with -32001 (never lost), the closeTimeoutMs deadline (HTTP bridge calls too), and a
// second close().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { GawClient } from '../../src/client/index.js';
import { entrypoint } from '../../src/server/index.js';
import type { GawError } from '../../src/errors.js';
import { rpcErrorCodes } from '../../src/jsonrpc/index.js';
import { Arrivals, Gate, RawClient, startServer, within } from '../helpers/server-fixtures.js';
import { postJson } from './http-helpers.js';

let gate = new Gate();
let arrivals = new Arrivals(0);
let finished: number[] = [];

class SlowService {
  static serviceName = 'slow';
  @entrypoint async wait(n: number): Promise<number> {
    arrivals.arrive();
    await gate.promise;
    finished.push(n);
    return n * 10;
  }
  @entrypoint hang(): Promise<never> {
    arrivals.arrive();
    return new Promise(() => {});
  }
  @entrypoint quick(n: number): number {
    return n + 1;
  }
}

function reset(expected: number): void {
  gate = new Gate();
  arrivals = new Arrivals(expected);
  finished = [];
}

test('close() sends CLOSE, refuses later requests with -32001 and lets in-flight calls finish', async () => {
  reset(3);
  const server = await startServer({}, SlowService);
  const client = await RawClient.open(server.address.port);
  for (const n of [1, 2, 3]) client.send({ jsonrpc: '2.0', id: n, method: 'slow.wait', params: [n] });
  await within(arrivals.all, 5_000, 'three handlers starting');

  const closing = server.close();
  await within(once(client.connection, 'closeReceived'), 5_000, 'the CLOSE frame');
  assert.equal(server.close(), closing, 'a second close() returns the same promise');

  client.send({ jsonrpc: '2.0', id: 'late', method: 'slow.quick', params: [1] });
  client.send({ jsonrpc: '2.0', method: 'slow.quick', params: [2] });
  const refusal = (await client.next()) as { id: unknown; error: { code: number; message: string } };
  assert.equal(refusal.id, 'late');
  assert.equal(refusal.error.code, rpcErrorCodes.SHUTTING_DOWN);
  assert.match(refusal.error.message, /not run/);

  gate.open();
  const replies = [await client.next(), await client.next(), await client.next()] as { id: number; result: number }[];
  assert.deepEqual(replies.map((r) => [r.id, r.result]).sort(), [
    [1, 10],
    [2, 20],
    [3, 30],
  ]);
  assert.deepEqual(finished.sort(), [1, 2, 3]);

  await client.close();
  await within(closing, 5_000, 'close() resolving once the client left');
  assert.equal(server.connectionCount, 0);
  await server.close();
  await assert.rejects(server.listen(), (err: GawError) => err.code === 'GAW_ERR_CLOSED');
});

test('close() ends a connection whose calls never finish once closeTimeoutMs has passed', async () => {
  reset(1);
  const server = await startServer({ closeTimeoutMs: 100 }, SlowService);
  const client = await RawClient.open(server.address.port);
  client.send({ jsonrpc: '2.0', id: 1, method: 'slow.hang' });
  await within(arrivals.all, 5_000, 'the handler starting');
  await within(server.close(), 5_000, 'close() past its deadline');
  await within(client.closed, 5_000, 'the connection closing');
  assert.equal(server.connectionCount, 0);
});

test('close() with an idle client connection resolves once the client leaves', async () => {
  reset(0);
  const server = await startServer({}, SlowService);
  const client = new GawClient({ port: server.address.port, retries: 0 });
  try {
    assert.equal(await client.call('slow.quick', [41]), 42);
    await within(server.close(), 5_000, 'close() with an idle pooled connection open');
    assert.equal(server.connectionCount, 0);
    await assert.rejects(client.call('slow.quick', [1]), (err: GawError) => {
      assert.equal(err.code, 'GAW_ERR_CONN_REFUSED', err.message);
      return true;
    });
  } finally {
    await client.close();
  }
});

test('close() holds an HTTP bridge call that never finishes only until the server closeTimeoutMs, not the bridge default of 5 s', async () => {
  reset(1);
  const server = await startServer({ closeTimeoutMs: 100, http: { port: 0 } }, SlowService);
  const call = postJson(server.httpAddress!.port, { jsonrpc: '2.0', id: 1, method: 'slow.hang' });
  const cut = assert.rejects(call, 'the hanging call is cut, not answered');
  await within(arrivals.all, 5_000, 'the handler starting');
  await within(server.close(), 2_500, 'close() past its 100 ms deadline');
  await within(cut, 5_000, 'the HTTP connection closing');
});
