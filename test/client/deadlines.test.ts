// The shared call deadlines (src/deadlines.ts): expiry in deadline order with one
// timer, removal before expiry, mixed timeouts, and an unref()ed timer. Real timers, no mocks.
// Its timer is unref()ed (a pending call's socket keeps a client process alive), so each test
// holds the event loop open itself while it waits.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { Deadlines } from '../../src/deadlines.js';

async function holdingLoop<T>(wait: Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => {}, 1_000);
  try {
    return await wait;
  } finally {
    clearInterval(keepAlive);
  }
}

function expiries(deadlines: Deadlines, timeoutsMs: number[]): Promise<number[]> {
  return new Promise((resolve) => {
    const order: number[] = [];
    for (const [i, ms] of timeoutsMs.entries()) {
      deadlines.add(ms, () => {
        order.push(i);
        if (order.length === timeoutsMs.length) resolve(order);
      });
    }
  });
}

test('deadlines expire in deadline order, whatever order they were added in', async () => {
  const order = await holdingLoop(expiries(new Deadlines(), [40, 10, 30, 20, 10]));
  assert.deepEqual(order, [1, 4, 3, 2, 0]);
});

test('a deadline removed before it is due never fires, and removing twice says so', async () => {
  const deadlines = new Deadlines();
  let removedFired = false;
  const removed = deadlines.add(5, () => {
    removedFired = true;
  });
  const fired = new Promise<void>((resolve) => deadlines.add(25, resolve));
  assert.equal(deadlines.remove(removed), true);
  assert.equal(deadlines.remove(removed), false);
  await holdingLoop(fired);
  assert.equal(removedFired, false);
});

test('a deadline does not fire early and reports whether it already expired', async () => {
  const deadlines = new Deadlines();
  const startMs = performance.now();
  let entry: ReturnType<Deadlines['add']> | undefined;
  const elapsedMs = await holdingLoop(
    new Promise<number>((resolve) => {
      entry = deadlines.add(30, () => resolve(performance.now() - startMs));
    }),
  );
  assert.ok(elapsedMs >= 29, `fired after ${elapsedMs} ms`);
  assert.equal(deadlines.remove(entry!), false);
});

test('a deadline added from an expiry callback is still served', async () => {
  const deadlines = new Deadlines();
  const second = await holdingLoop(
    new Promise<string>((resolve) => {
      deadlines.add(5, () => deadlines.add(5, () => resolve('second')));
    }),
  );
  assert.equal(second, 'second');
});

test('a pending deadline does not keep a process alive', () => {
  const url = new URL('../../src/deadlines.js', import.meta.url).href;
  const script = `import { Deadlines } from ${JSON.stringify(url)}; new Deadlines().add(60000, () => process.exit(3));`;
  const startMs = performance.now();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
  assert.equal(child.status, 0, child.stderr.toString());
  assert.ok(performance.now() - startMs < 20_000);
});
