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

test('128 MiB streamed in 64 KiB items through suite cbc: neither side grows by 64 MiB', {
  timeout: 120_000,
}, async () => {
  const result = await streamBulk(128 * MiB, 64 * 1024);
  assert.equal(result.bytes, 128 * MiB);
  assert.equal(result.items, 2048);
  assert.ok(result.serverGrowthBytes < 64 * MiB, `the server grew ${(result.serverGrowthBytes / MiB).toFixed(1)} MiB`);
  assert.ok(result.clientGrowthBytes < 64 * MiB, `the client grew ${(result.clientGrowthBytes / MiB).toFixed(1)} MiB`);
});

test('the server SIGKILLed mid-stream: the loop throws a connection error after the items that arrived', {
  timeout: 120_000,
}, async () => {
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

test('100 concurrent streams and unary calls on one connection: every stream completes, unary calls are answered between the items', {
  timeout: 120_000,
}, async () => {
  const { server, secret } = await startBulkServer();
  const client = bulkClient(server.port, secret, { poolSize: 1 });
  try {
    const bulk: Remote<BulkService> = client.service<BulkService>('bulk');
    assert.equal(await bulk.echo(1), 1);
    // 300 MiB: long enough for many unary calls to fit between the streams' items.
    const itemsPerStream = 192;
    const total = 100 * itemsPerStream * 16 * 1024;
    let received = 0;
    const streams = Array.from({ length: 100 }, async () => {
      let bytes = 0;
      for await (const item of bulk.bytes(itemsPerStream * 16 * 1024, 16 * 1024)) {
        bytes += item.length;
        received += item.length;
      }
      return bytes;
    });
    let isDone = false;
    const all = Promise.all(streams).finally(() => {
      isDone = true;
    });
    // Where in the streams each unary call was answered, as the share of stream bytes received by
    // then: a count, not a time, so a loaded machine slows both sides alike. A unary call starved
    // behind the streams would be answered only at the end (share ~1).
    const answeredAt: number[] = [];
    while (!isDone) {
      assert.equal(await bulk.echo(answeredAt.length), answeredAt.length);
      answeredAt.push(received / total);
    }
    const totals = await all;
    assert.ok(totals.every((bytes) => bytes === itemsPerStream * 16 * 1024));
    assert.equal(client.connectionCount, 1);
    const early = answeredAt.filter((share) => share < 0.9).length;
    // Starved, at most the first call would be early; here most are (a loaded machine fits fewer in).
    assert.ok(
      early >= 3 && early * 2 > answeredAt.length,
      `only ${early} of ${answeredAt.length} unary calls were answered before 90% of the streams`,
    );
  } finally {
    await client.close();
    await server.kill();
  }
});
