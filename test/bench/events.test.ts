// Smoke test of the events benchmark: a tiny run against its own redis-server produces a table with
// a measured rate for both cases. Asserts no speed (speed goals live in the benchmark itself).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runEventsBench } from '../../bench/events.js';
import { redisEngine } from '../helpers/redis-server.js';

test('a tiny events benchmark run reports a durable and a broadcast rate', { skip: redisEngine.skip }, async () => {
  const lines: string[] = [];
  const table = await runEventsBench({ durable: 500, broadcast: 500, rounds: 1, log: (l) => lines.push(l) });
  for (const label of ['durable: emit', 'broadcast: publish']) {
    const row = table.split('\n').find((line) => line.startsWith(`| ${label}`));
    assert.ok(row, `no ${label} row in:\n${table}`);
    const rate = Number(row.split('|')[2]!.trim().replace(/,/g, ''));
    assert.ok(rate > 0, `a positive rate: ${row}`);
  }
  assert.ok(
    lines.some((line) => line.includes('events round 1')),
    'the progress log names the round',
  );
});
