// Fairness between one fast stream and unary calls on the same connection, counted, not timed: how
// many stream bytes reach the client between a unary call's request and its answer. A unary answer
// queued behind a whole credit window of stream data (32 x 64 KiB = 2 MiB) fails; with the byte
// budget of the client's credit and the server's per-wave interleaving it waits behind far less.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Remote } from '../../src/client/index.js';
import { bulkClient, startBulkServer } from './bulk.js';
import type { BulkService } from './bulk-server.js';

const KiB = 1024;

test('beside one fast stream of 64 KiB items, a unary answer waits behind at most 1 MiB of stream data', {
  timeout: 120_000,
}, async (t) => {
  const { server, secret } = await startBulkServer();
  const client = bulkClient(server.port, secret, { poolSize: 1 });
  try {
    const bulk: Remote<BulkService> = client.service<BulkService>('bulk');
    assert.equal(await bulk.echo(0), 0);
    let received = 0;
    let isStopping = false;
    let firstItem: () => void = () => {};
    const flowing = new Promise<void>((resolve) => {
      firstItem = resolve;
    });
    const stream = (async () => {
      for await (const item of bulk.endless(64 * KiB)) {
        received += item.length;
        firstItem();
        if (isStopping) break;
      }
    })();
    await flowing;
    // Warm-up: the first window (sent with the request, before any item size is known) drains.
    for (let i = 0; i < 20; i++) await bulk.echo(i);
    const passed: number[] = [];
    for (let i = 0; i < 200; i++) {
      const before = received;
      assert.equal(await bulk.echo(i), i);
      passed.push(received - before);
    }
    isStopping = true;
    await stream;
    passed.sort((a, b) => a - b);
    const worst = passed.at(-1)!;
    const p99 = passed[Math.floor(passed.length * 0.99)]!;
    t.diagnostic(`stream KiB before a unary answer: p50 ${passed[100]! / KiB}, p99 ${p99 / KiB}, worst ${worst / KiB}`);
    assert.ok(received > 20 * 64 * KiB, `the stream kept flowing (${received} bytes)`);
    assert.ok(
      p99 <= 1024 * KiB,
      `p99: ${p99 / KiB} KiB of stream data passed before a unary answer (worst ${worst / KiB} KiB)`,
    );
  } finally {
    await client.close();
    await server.kill();
  }
});
