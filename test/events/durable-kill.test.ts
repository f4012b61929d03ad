// At-least-once for real: a group of two consumers in child processes, one SIGKILLed while its
// handlers run. The entries it held are reclaimed by the other after visibilityMs, so every event
// is handled, and only the ones it had in flight are handled twice.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { GawEvents } from '../../src/index.js';
import { track } from '../helpers/cleanup.js';
import { redisEngine, startRedis } from '../helpers/redis-server.js';
import { makeSecret, until, within } from '../helpers/server-fixtures.js';

const childScript = fileURLToPath(new URL('./consumer-child.js', import.meta.url));

function lines(file: string): { kind: string; n: number; deliveries: number }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [kind, n, deliveries] = line.split(' ');
      return { kind: kind!, n: Number(n), deliveries: Number(deliveries) };
    });
}

test('a consumer SIGKILLed mid-handler: the other consumer of its group handles its events', {
  skip: redisEngine.skip,
}, async () => {
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'gaw-events-'));
  track(() => rmSync(dir, { recursive: true, force: true }));
  const secret = makeSecret();
  const namespace = `k${randomBytes(4).toString('hex')}`;
  const start = async (name: string): Promise<{ child: ChildProcess; file: string; exited: Promise<void> }> => {
    const file = join(dir, `${name}.log`);
    const child = fork(childScript, [redis.url, namespace, file, '500'], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, GAW_TEST_SECRET: secret },
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    track(() => {
      child.kill('SIGKILL');
      return exited;
    });
    await within(new Promise((resolve) => child.once('message', resolve)), 10_000, `${name} subscribed`);
    return { child, file, exited };
  };
  const a = await start('a');
  const b = await start('b');
  const sender = new GawEvents({ url: redis.url, secret, namespace });
  track(() => sender.close());
  const count = 16;
  for (let n = 0; n < count; n++) await sender.emit('job', { n, ms: 200 });

  // Kill a as soon as it has started a handler (200 ms each: it is still inside it).
  await until(() => lines(a.file).some((l) => l.kind === 'start'), 'a starting a handler');
  a.child.kill('SIGKILL');
  await a.exited;
  assert.equal(a.child.signalCode, 'SIGKILL');
  const ofA = lines(a.file);
  const doneByA = new Set(ofA.filter((l) => l.kind === 'done').map((l) => l.n));
  const cutOff = ofA.filter((l) => l.kind === 'start' && !doneByA.has(l.n)).map((l) => l.n);
  assert.ok(cutOff.length >= 1, 'a was inside at least one handler when it was killed');
  assert.ok(cutOff.length <= 4, 'a held at most one batch (batchSize 4)');

  const doneByB = () =>
    new Set(
      lines(b.file)
        .filter((l) => l.kind === 'done')
        .map((l) => l.n),
    );
  await until(
    () => doneByA.size + doneByB().size >= count && cutOff.every((n) => doneByB().has(n)),
    'every event handled',
    10_000,
  );
  const all = new Set([...doneByA, ...doneByB()]);
  assert.deepEqual(
    [...all].sort((x, y) => x - y),
    [...Array(count).keys()],
  );
  // The events a was killed inside were redelivered to b (delivery count 2 or more).
  for (const n of cutOff) {
    assert.ok(
      lines(b.file).some((l) => l.kind === 'done' && l.n === n && l.deliveries >= 2),
      `event ${n} redelivered`,
    );
  }
  // Handled twice: only those a finished and b also ran, never more than a had in flight.
  const twice = [...doneByA].filter((n) => doneByB().has(n));
  assert.deepEqual(twice, []);
  b.child.disconnect();
  await b.exited;
});
