// Smoke test of the benchmark harness: one quick case end to end (a server process, a load
// process, the report). Proves `npm run bench` works; asserts no speed, only that a table comes out.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseOptions, runBench } from '../../bench/run.js';
import { closedLoop, median, quantile, spread } from '../../bench/harness.js';

test('a quick run of one case writes a report with a measured row for it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gaw-bench-'));
  try {
    const out = join(dir, 'RESULTS.md');
    const options = parseOptions([
      '--quick',
      '--filter',
      'gaw/none/json/tiny/x1',
      '--no-memory',
      '--no-codec',
      '--warmup',
      '100',
      '--duration',
      '300',
      '--out',
      out,
    ]);
    const lines: string[] = [];
    const report = await runBench({ ...options, log: (line) => lines.push(line) }, 'npm run bench -- --quick');
    assert.equal(readFileSync(out, 'utf8'), report);
    assert.match(report, /^Machine: .+ cores, .+Node v\d+/m);
    const row = report.split('\n').find((line) => line.startsWith('| gaw, tiny, 1 in flight, one connection |'));
    assert.ok(row, `no row for the case in:\n${report}`);
    const callsPerSecond = Number(row.split('|')[2]!.trim().replace(/,/g, ''));
    assert.ok(callsPerSecond > 0, `calls/s should be a positive number: ${row}`);
    assert.doesNotMatch(row, /failed|errors/);
    assert.match(
      row.split('|')[7]!,
      /^ [\d.]+ \/ [\d.]+ $/,
      `the load's and the server's CPU per call were measured: ${row}`,
    );
    assert.ok(
      lines.some((line) => line.includes('gaw/none/json/tiny/x1')),
      'the progress log names the case',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the closed loop counts calls, keeps going after a failing call, and reports the first error', async () => {
  let i = 0;
  const result = await closedLoop(
    () => (++i % 10 === 0 ? Promise.reject(new Error('every tenth call fails')) : new Promise((r) => setImmediate(r))),
    {
      inFlight: 4,
      warmupMs: 20,
      durationMs: 100,
    },
  );
  assert.ok(result.calls > 0);
  assert.ok(result.errors > 0);
  assert.equal(result.firstError, 'Error: every tenth call fails');
  assert.ok(result.p50Us <= result.p99Us);
});

test('median, spread and quantile summarise repeats the way the report says', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(spread([90, 100, 110]), 0.2);
  assert.equal(spread([100]), 0);
  const sorted = Float64Array.from({ length: 100 }, (_v, k) => k + 1);
  assert.equal(quantile(sorted, 0.5), 50);
  assert.equal(quantile(sorted, 0.99), 99);
  assert.ok(Number.isNaN(quantile(new Float64Array(0), 0.5)));
});

test('bad flags are refused with a message naming the flag', () => {
  assert.throws(() => parseOptions(['--repeats', 'x']), /--repeats must be an integer/);
  assert.throws(() => parseOptions(['--duration', '1']), /--duration must be an integer of at least 50/);
});
