// The failure table of design/SCALE-OUT.md 3c over real processes: servers in child processes on
// 127.0.0.2 and 127.0.0.3 (other "machines"), registered on a real redis-server (unix socket,
// ttl 1 000 ms, heartbeat 300 ms), a client in this process calling by name under load. Servers
// are SIGKILLed and SIGSTOPped by pid; Redis is killed for 3 s and comes back empty, or hangs for 3 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawClient } from '../../src/client/index.js';
import { registryKeys } from '../../src/registry/index.js';
import type { WatchEvent } from '../../src/registry/index.js';
import { connectRedis } from '../../src/redis/index.js';
import type { GawError } from '../../src/errors.js';
import { track } from '../helpers/cleanup.js';
import { redisEngine, startRedis } from '../helpers/redis-server.js';
import { ChildServer, makeSecret } from '../helpers/server-fixtures.js';

const { skip } = redisEngine;
const timings = { ttlMs: 1000, heartbeatMs: 300, commandTimeoutMs: 500, resyncMs: 1000, discoveryTimeoutMs: 2000 };

async function child(url: string, secret: string, label: string, host: string): Promise<ChildServer> {
  const server = await ChildServer.start(label, { host, secret, discovery: { url, ...timings } });
  track(() => server.kill());
  return server;
}

function client(url: string, secret: string): GawClient {
  const c = new GawClient({
    secret,
    discovery: { url, ...timings },
    idempotent: ['label.whoami'],
    retries: 5,
    baseDelayMs: 5,
    maxDelayMs: 50,
    timeoutMs: 4000,
    ejectionMs: 200,
  });
  track(() => c.destroy());
  return c;
}

async function poll(what: string, check: () => boolean, deadlineMs = 5000): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > deadlineMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - started;
}

/** 16 callers in a loop until stop(): every answer counted by label, every failure kept. */
function load(c: GawClient) {
  const seen = new Map<string, number>();
  const failures: GawError[] = [];
  let isRunning = true;
  let done = 0;
  const loops = Array.from({ length: 16 }, async () => {
    while (isRunning) {
      try {
        const label = await c.call<string>('label.whoami');
        seen.set(label, (seen.get(label) ?? 0) + 1);
        done++;
      } catch (err) {
        failures.push(err as GawError);
      }
    }
  });
  return {
    seen,
    failures,
    get done() {
      return done;
    },
    async stop() {
      isRunning = false;
      await Promise.all(loops);
      for (const f of failures.slice(0, 3)) console.log(`# failure: ${f.code} ${f.message}`);
    },
  };
}

test('a new instance takes calls on arrival; a SIGKILLed one fails no idempotent call and leaves within ttl + heartbeat', {
  skip,
}, async () => {
  const redis = await startRedis();
  const secret = makeSecret();
  const a = await child(redis.url, secret, 'a', '127.0.0.2');
  const c = client(redis.url, secret);
  const events: WatchEvent[] = [];
  c.watch('label', (event) => events.push(event));
  const running = load(c);
  await poll('calls to a', () => (running.seen.get('a') ?? 0) > 50);
  const b = await child(redis.url, secret, 'b', '127.0.0.3');
  const usedMs = await poll('calls to b', () => (running.seen.get('b') ?? 0) > 0, 2000);
  console.log(`# a new instance took calls ${usedMs.toFixed(1)} ms after it registered (goal < 200 ms)`);
  await poll('calls to both', () => (running.seen.get('b') ?? 0) > 50);
  const killedAt = performance.now();
  await a.kill();
  await poll('the down of a', () => events.some((e) => e.type === 'down' && e.instance.port === a.port), 5000);
  const leftMs = performance.now() - killedAt;
  const before = running.done;
  await poll('calls after the kill', () => running.done > before + 100);
  await running.stop();
  console.log(
    `# a SIGKILLed instance left the client's view after ${leftMs.toFixed(0)} ms (bound ttl + 1.1 heartbeat: 1330 ms)`,
  );
  assert.deepEqual(
    running.failures.map((f) => f.code),
    [],
  );
  assert.ok(leftMs < 3000, `left after ${leftMs} ms`);
  assert.ok(b.child.exitCode === null);
});

test('a SIGSTOPped instance is reaped and calls go elsewhere; after SIGCONT it registers again and takes calls', {
  skip,
}, async () => {
  const redis = await startRedis();
  const secret = makeSecret();
  const a = await child(redis.url, secret, 'a', '127.0.0.2');
  await child(redis.url, secret, 'b', '127.0.0.3');
  const c = client(redis.url, secret);
  const events: WatchEvent[] = [];
  c.watch('label', (event) => events.push(event));
  await poll('both up', () => events.length === 2);
  const stoppedAt = performance.now();
  a.child.kill('SIGSTOP');
  track(() => a.child.kill('SIGCONT'));
  await poll('the down of a', () => events.some((e) => e.type === 'down' && e.instance.port === a.port));
  console.log(`# a SIGSTOPped instance was reaped after ${(performance.now() - stoppedAt).toFixed(0)} ms`);
  // Calls started after the reap go to b only, and none fails.
  const running = load(c);
  await poll('calls to b', () => running.done > 200);
  assert.equal(running.seen.get('a'), undefined);
  a.child.kill('SIGCONT');
  await poll('a up again', () => events.filter((e) => e.type === 'up' && e.instance.port === a.port).length === 2);
  await poll('calls to a again', () => (running.seen.get('a') ?? 0) > 20, 5000);
  await running.stop();
  assert.deepEqual(
    running.failures.map((f) => f.code),
    [],
  );
});

test('Redis SIGKILLed for 3 s under load fails no call; restarted empty, every server is back within two heartbeats', {
  skip,
}, async () => {
  const redis = await startRedis();
  const secret = makeSecret();
  await child(redis.url, secret, 'a', '127.0.0.2');
  await child(redis.url, secret, 'b', '127.0.0.3');
  const c = client(redis.url, secret);
  const running = load(c);
  await poll('calls to both', () => (running.seen.get('a') ?? 0) > 20 && (running.seen.get('b') ?? 0) > 20);
  await redis.stop();
  const duringOutage = running.done;
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const servedDuringOutage = running.done - duringOutage;
  await redis.restart();
  const restartedAt = performance.now();
  const link = await connectRedis(redis.url, { commandTimeoutMs: 500 });
  track(() => link.destroy());
  const live = () => link.command<number>(['ZCARD', registryKeys('default').live]).catch(() => 0);
  while ((await live()) < 2) {
    assert.ok(performance.now() - restartedAt < 5000, 'servers registered again');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const backMs = performance.now() - restartedAt;
  // A second client, whose only view is what Redis holds now, reaches both.
  const fresh = client(redis.url, secret);
  const labels = new Set<string>();
  for (let i = 0; i < 100 && labels.size < 2; i++) labels.add(await fresh.call<string>('label.whoami'));
  await running.stop();
  console.log(
    `# Redis down 3 s: ${servedDuringOutage} calls answered meanwhile, 0 expected to fail; every server was registered again ${backMs.toFixed(0)} ms after the empty Redis answered (two heartbeats: 600 ms)`,
  );
  assert.deepEqual(
    running.failures.map((f) => f.code),
    [],
  );
  assert.ok(servedDuringOutage > 100);
  assert.deepEqual([...labels].sort(), ['a', 'b']);
  assert.ok(backMs < 1500, `back after ${backMs} ms`);
});

test('Redis SIGSTOPped for 3 s under load: no call fails; after SIGCONT a new server is seen again', {
  skip,
}, async () => {
  const redis = await startRedis();
  const secret = makeSecret();
  await child(redis.url, secret, 'a', '127.0.0.2');
  const c = client(redis.url, secret);
  const events: WatchEvent[] = [];
  c.watch('label', (event) => events.push(event));
  const running = load(c);
  await poll('calls to a', () => (running.seen.get('a') ?? 0) > 20);
  redis.kill('SIGSTOP');
  track(() => redis.kill('SIGCONT'));
  const before = running.done;
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const servedWhileHung = running.done - before;
  redis.kill('SIGCONT');
  await child(redis.url, secret, 'b', '127.0.0.3');
  await poll('calls to b', () => (running.seen.get('b') ?? 0) > 0, 5000);
  await running.stop();
  console.log(`# Redis hung 3 s: ${servedWhileHung} calls answered meanwhile`);
  assert.deepEqual(
    running.failures.map((f) => f.code),
    [],
  );
  assert.ok(servedWhileHung > 100);
});
