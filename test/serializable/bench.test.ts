// Keeps the serializable benchmark runnable: one tiny round of it must produce its report.
// Speed itself is not asserted here (goals live in the benchmark, not in timed tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../bench/serializable.js';

test('the benchmark runs and reports every case of both scenarios as a markdown table', async () => {
  const report = await run({ rounds: 1, iterations: 20 });
  assert.match(report, /### small reply: 91 B as json, 72 B as msgpack/);
  assert.match(report, /### reply carrying 1 KiB of bytes/);
  for (const name of [
    'plain JSON.stringify + JSON.parse (strings)',
    'gaw json codec',
    'gaw msgpack codec',
    'raw msgpackr',
  ]) {
    assert.equal(report.split('\n').filter((line) => line.startsWith(`| ${name}`)).length, 2, name);
  }
});
