// Streams under load, against a server in a child process: a large stream in 64 KiB items through
// suite cbc within a fixed memory bound on each side, the server SIGKILLed mid-stream, and 100
// streams sharing one connection with unary calls whose latency stays bounded. (The 1 GiB run of
// the memory bound is scripts/soak-streams.js: too slow for every `npm test` on a loaded machine.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionError } from '../../src/errors.js';
import type { Remote } from '../../src/client/index.js';
import { within } from '../helpers/server-fixtures.js';
import { bulkClient, startBulkServer, streamBulk } from './bulk.js';
import type { BulkService } from './bulk-server.js';

const MiB = 1024 * 1024;

test('128 MiB streamed in 64 KiB items through suite cbc: neither side grows by 64 MiB', async () => {
  const result = await streamBulk(128 * MiB, 64 * 1024);
  assert.equal(result.bytes, 128 * MiB);
  assert.equal(result.items, 2048);
  assert.ok(result.serverGrowthBytes < 64 * MiB, `the server grew ${(result.serverGrowthBytes / MiB).toFixed(1)} MiB`);
  assert.ok(result.clientGrowthBytes < 64 * MiB, `the client grew ${(result.clientGrowthBytes / MiB).toFixed(1)} MiB`);
});

test('the server SIGKILLed mid-stream: the loop throws a connection error after the items that arrived', async () => {
  const { server, secret } = await startBulkServer();
  const client = bulkClient(server.port, secret, { poolSize: 1 });
  try {
    const bulk = client.service<BulkService>('bulk');
    let items = 0;
    const loop = (async () => {
      for await (const _ of bulk.endless(1024)) {
        if (++items === 50) void server.kill();
      }
    })();
    await assert.rejects(within(loop, 10_000, 'the loop ending'), (err: unknown) => {
      assert.ok(err instanceof ConnectionError, String(err));
      assert.equal(err.code, 'GAW_ERR_CONN_CLOSED');
      return true;
    });
    assert.ok(items >= 50);
  } finally {
    client.destroy();
    await server.kill();
  }
});

test('100 concurrent streams and unary calls on one connection: every stream completes, unary p99 stays bounded', async () => {
  const { server, secret } = await startBulkServer();
  const client = bulkClient(server.port, secret, { poolSize: 1 });
  try {
    const bulk: Remote<BulkService> = client.service<BulkService>('bulk');
    assert.equal(await bulk.echo(1), 1);
    // Long enough (300 MiB, seconds here) that a unary call starved until the streams end would be
    // far past the bound below.
    const itemsPerStream = 192;
    const streams = Array.from({ length: 100 }, async () => {
      let bytes = 0;
      for await (const item of bulk.bytes(itemsPerStream * 16 * 1024, 16 * 1024)) bytes += item.length;
      return bytes;
    });
    let isDone = false;
    const all = Promise.all(streams).finally(() => {
      isDone = true;
    });
    const latenciesMs: number[] = [];
    while (!isDone) {
      const started = performance.now();
      assert.equal(await bulk.echo(latenciesMs.length), latenciesMs.length);
      latenciesMs.push(performance.now() - started);
    }
    const totals = await all;
    assert.ok(totals.every((bytes) => bytes === itemsPerStream * 16 * 1024));
    assert.equal(client.connectionCount, 1);
    // A starved unary call would wait for the streams: then one or two calls at most, the last slow.
    // (Even a fast machine needs seconds for the 300 MiB, so many calls fit.)
    assert.ok(latenciesMs.length >= 10, `only ${latenciesMs.length} unary calls finished during the streams`);
    latenciesMs.sort((a, b) => a - b);
    const p99 = latenciesMs[Math.floor(latenciesMs.length * 0.99)] as number;
    // 100 streams push 300 MiB over the connection meanwhile; a unary call waits behind at most
    // 256 KiB of stream data on the server's socket, so it is answered in milliseconds, not after
    // the streams (which take seconds here). The bound is loose for a loaded 2-core machine.
    assert.ok(p99 < 1_000, `unary p99 ${p99.toFixed(1)} ms during 100 streams (${latenciesMs.length} calls)`);
  } finally {
    await client.close();
    await server.kill();
  }
});
