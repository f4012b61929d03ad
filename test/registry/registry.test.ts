// The registry against a real redis-server on a unix socket (ttl 1 000 ms, heartbeat 300 ms):
// announcers register, beat and reap; a watcher resolves names, is pushed changes, holds flaps,
// keeps its last view while Redis is down and refills after Redis comes back empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/log.js';
import { connectRedis } from '../../src/redis/index.js';
import { Announcer, RegistryWatcher, registryKeys, resolveDiscovery } from '../../src/registry/index.js';
import type { DiscoveryOptions, WatchEvent } from '../../src/registry/index.js';
import { track } from '../helpers/cleanup.js';
import { redisEngine, startRedis } from '../helpers/redis-server.js';

const { skip } = redisEngine;
const timings = { ttlMs: 1000, heartbeatMs: 300, commandTimeoutMs: 500, resyncMs: 1000, discoveryTimeoutMs: 2000 };

async function until(what: string, check: () => boolean | Promise<boolean>, deadlineMs = 5000): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > deadlineMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - started;
}

function options(url: string, extra: Partial<DiscoveryOptions> = {}) {
  return resolveDiscovery({ url, ...timings, ...extra }, silentLogger);
}

async function announce(url: string, port: number, services: string[], extra: Partial<DiscoveryOptions> = {}) {
  const announcer = new Announcer(options(url, extra), {
    host: '127.0.0.1',
    port,
    services,
    suites: ['secretbox'],
    codecs: ['json'],
    keyId: 0,
  });
  track(() => announcer.destroy());
  await announcer.start();
  return announcer;
}

function watcher(url: string): RegistryWatcher {
  const w = new RegistryWatcher(options(url));
  track(() => w.destroy());
  return w;
}

const ports = (w: RegistryWatcher, name: string) =>
  [...(w.view(name)?.instances.values() ?? [])].map((i) => i.port).sort((a, b) => a - b);

test('names resolve to their instances, globs list names, and a new instance is pushed within 200 ms', {
  skip,
}, async () => {
  const redis = await startRedis();
  const a = await announce(redis.url, 1001, ['math_service', 'worker_eu']);
  await announce(redis.url, 1002, ['worker_us']);
  const w = watcher(redis.url);
  assert.deepEqual(await w.discover('worker_*'), ['worker_eu', 'worker_us']);
  assert.deepEqual(await w.discover('*'), ['math_service', 'worker_eu', 'worker_us']);
  const view = await w.resolve('math_service');
  assert.deepEqual(
    [...view.instances.values()].map((i) => i.addr),
    ['127.0.0.1:1001'],
  );
  assert.equal([...view.instances.keys()][0], a.id);
  assert.equal(w.state, 'live');
  const events: WatchEvent[] = [];
  w.watch('math_*', (event) => events.push(event));
  await until('the initial up', () => events.length === 1);
  const started = performance.now();
  await announce(redis.url, 1003, ['math_service']);
  await until('the pushed up', () => ports(w, 'math_service').length === 2, 200);
  console.log(`# new instance seen after ${(performance.now() - started).toFixed(1)} ms (goal < 200 ms)`);
  assert.deepEqual(
    events.map((e) => [e.type, e.service, e.instance.port]),
    [
      ['up', 'math_service', 1001],
      ['up', 'math_service', 1003],
    ],
  );
  await assert.rejects(w.resolve('no such name!'), { code: 'GAW_ERR_INVALID_OPTION' });
  assert.equal((await w.resolve('nobody_here')).instances.size, 0);
  await w.close();
});

test('a graceful stop publishes drain, then down; a silent death is reaped within ttl + heartbeat', {
  skip,
}, async () => {
  const redis = await startRedis();
  await announce(redis.url, 2001, ['svc']);
  const b = await announce(redis.url, 2002, ['svc']);
  const c = await announce(redis.url, 2003, ['svc']);
  const w = watcher(redis.url);
  await w.resolve('svc');
  const events: string[] = [];
  w.watch('svc', (event) => events.push(`${event.type}:${event.instance.port}`));
  await until('three ups', () => events.length === 3);
  await b.drain();
  await b.stop();
  await until('drain and down', () => events.includes('down:2002'));
  assert.deepEqual(events.slice(3), ['drain:2002', 'down:2002']);
  // c dies without a word (SIGKILL's view from Redis): a peer's heartbeat reaps it.
  const killedAt = performance.now();
  c.destroy();
  const tookMs = await until('c reaped', () => events.includes('down:2003'), 3000);
  console.log(`# silent death left the view after ${tookMs.toFixed(0)} ms (bound ttl + 1.1 x heartbeat = 1330 ms)`);
  assert.ok(performance.now() - killedAt < 1000 + 1.1 * 300 + 250, `reaped after ${tookMs} ms`);
  assert.deepEqual(ports(w, 'svc'), [2001]);
});

test('the last instance going away is confirmed by a second read before the view empties', { skip }, async () => {
  const redis = await startRedis();
  const only = await announce(redis.url, 3001, ['lonely']);
  const w = watcher(redis.url);
  await w.resolve('lonely');
  const link = await connectRedis(redis.url);
  track(() => link.destroy());
  // Someone deletes the record by hand and publishes a down: held until a read a heartbeat later.
  const keys = registryKeys('default');
  only.destroy();
  await link.command(['ZREM', keys.live, only.id]);
  await link.command(['HDEL', keys.inst, only.id]);
  await link.command(['PUBLISH', keys.changes, JSON.stringify({ v: 1, op: 'down', id: only.id, rev: 99 })]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(ports(w, 'lonely'), [3001], 'held');
  await until('confirmed empty', () => ports(w, 'lonely').length === 0, 2000);
  await link.close();
});

test('keys deleted by hand: pools keep their instances, and the servers register again within a heartbeat', {
  skip,
}, async () => {
  const redis = await startRedis();
  const a = await announce(redis.url, 4001, ['svc']);
  await announce(redis.url, 4002, ['svc']);
  const w = watcher(redis.url);
  await w.resolve('svc');
  const link = await connectRedis(redis.url);
  track(() => link.destroy());
  const keys = registryKeys('default');
  await link.command(['DEL', keys.live, keys.inst, keys.names, keys.rev, `${keys.prefix}svc:svc`]);
  let lowest = 2;
  const tookMs = await until('both back in Redis', async () => {
    const n = Number(await link.command(['ZCARD', keys.live]));
    lowest = Math.min(lowest, ports(w, 'svc').length);
    return n === 2;
  });
  console.log(`# re-registered ${tookMs.toFixed(0)} ms after the wipe (goal within one heartbeat + jitter, 330 ms)`);
  assert.ok(tookMs < 2 * 330, `took ${tookMs} ms`);
  assert.ok(a.goneCount >= 1);
  assert.equal(lowest, 2, 'the view never lost an instance');
  await w.resolve('svc');
  assert.deepEqual(ports(w, 'svc'), [4001, 4002]);
  await link.close();
});

test('forged and oversized records are dropped on read and on push', { skip }, async () => {
  const redis = await startRedis();
  await announce(redis.url, 5001, ['svc']);
  const link = await connectRedis(redis.url);
  track(() => link.destroy());
  const keys = registryKeys('default');
  const forge = async (id: string, record: string) => {
    const [seconds] = (await link.command(['TIME'])) as string[];
    await link.command(['ZADD', keys.live, String(Number(seconds) * 1000 + 60_000), id]);
    await link.command(['HSET', keys.inst, id, record]);
    await link.command(['SADD', `${keys.prefix}svc:svc`, id]);
  };
  const base = { v: 1, services: ['svc'], suites: [], codecs: [], keyId: 0, workers: 1, weight: 100, draining: false };
  await forge('FFFFFFFFFFFFFFFFFFFFF1', JSON.stringify({ ...base, id: 'FFFFFFFFFFFFFFFFFFFFF1', addr: '0.0.0.0:1' }));
  await forge(
    'FFFFFFFFFFFFFFFFFFFFF2',
    JSON.stringify({ ...base, id: 'FFFFFFFFFFFFFFFFFFFFF2', addr: 'x:1', pad: 'y'.repeat(5000) }),
  );
  await forge('FFFFFFFFFFFFFFFFFFFFF3', JSON.stringify({ ...base, id: 'SOMEONE_ELSE_AAAAAAAAA', addr: 'x:1' }));
  await forge('FFFFFFFFFFFFFFFFFFFFF4', 'not json');
  const w = watcher(redis.url);
  assert.deepEqual(ports(w, 'svc'), []);
  await w.resolve('svc');
  assert.deepEqual(ports(w, 'svc'), [5001]);
  assert.equal(w.droppedCount, 3, 'the oversized one is dropped by the read script itself');
  await link.command([
    'PUBLISH',
    keys.changes,
    '{"v":1,"op":"up","id":"FFFFFFFFFFFFFFFFFFFFF5","rev":1000,"rec":"{}"}',
  ]);
  await link.command(['PUBLISH', keys.changes, 'x'.repeat(20_000)]);
  await until('both messages refused', () => w.droppedCount >= 5);
  assert.deepEqual(ports(w, 'svc'), [5001]);
  await link.close();
});

test('Redis down: the last view stays (stale), unknown names fail fast; restarted empty: back within two heartbeats', {
  skip,
}, async () => {
  const redis = await startRedis();
  const a = await announce(redis.url, 6001, ['svc']);
  await announce(redis.url, 6002, ['svc']);
  const w = watcher(redis.url);
  await w.resolve('svc');
  assert.equal(w.state, 'live');
  await redis.stop();
  await until('stale', () => w.state === 'stale');
  assert.deepEqual(ports(w, 'svc'), [6001, 6002]);
  assert.deepEqual(ports(w, 'svc'), ports(w, 'svc'));
  const started = performance.now();
  await assert.rejects(w.resolve('never_seen'), { code: 'GAW_ERR_DISCOVERY_UNAVAILABLE' });
  const failMs = performance.now() - started;
  console.log(`# unknown name with Redis down failed after ${failMs.toFixed(1)} ms`);
  assert.ok(failMs < 100, `${failMs} ms`);
  await redis.restart();
  const link = await connectRedis(redis.url);
  track(() => link.destroy());
  const keys = registryKeys('default');
  const backMs = await until(
    'both registered again',
    async () => Number(await link.command(['ZCARD', keys.live]).catch(() => 0)) === 2,
  );
  console.log(
    `# servers back in an empty Redis ${backMs.toFixed(0)} ms after it answered (goal within two heartbeats)`,
  );
  assert.ok(backMs < 2 * 330 + 200, `${backMs} ms`);
  await until('live again', () => w.state === 'live');
  assert.deepEqual(ports(w, 'svc'), [6001, 6002]);
  await a.drain();
  await a.stop();
  await until('the pushed down after the restart', () => ports(w, 'svc').length === 1, 2000);
  await link.close();
});
