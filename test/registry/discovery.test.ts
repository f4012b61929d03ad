// GawServer and GawClient with the `discovery` option, against a real redis-server on a unix socket
// (ttl 1 000 ms, heartbeat 300 ms): servers register what they host, clients call by name through
// their balancing, list and watch names, survive churn and a dead Redis, and fail fast when a name
// has no instance or was never read while Redis is down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawClient } from '../../src/client/index.js';
import type { GawServer } from '../../src/server/index.js';
import type { WatchEvent } from '../../src/registry/index.js';
import type { GawError } from '../../src/errors.js';
import { track } from '../helpers/cleanup.js';
import { redisEngine, startRedis } from '../helpers/redis-server.js';
import { LabelService, makeSecret, startServer, until } from '../helpers/server-fixtures.js';

const { skip } = redisEngine;
const timings = { ttlMs: 1000, heartbeatMs: 300, commandTimeoutMs: 500, resyncMs: 1000, discoveryTimeoutMs: 2000 };

async function serve(url: string, secret: string, label: string, host = '127.0.0.1'): Promise<GawServer> {
  const server = await startServer({ secret, host, discovery: { url, ...timings }, closeTimeoutMs: 2000 }, [
    LabelService,
    label,
  ]);
  track(() => server.close());
  return server;
}

function client(url: string, secret: string): GawClient {
  const c = new GawClient({ secret, discovery: { url, ...timings }, retries: 3, baseDelayMs: 5, timeoutMs: 3000 });
  track(() => c.destroy());
  return c;
}

interface Label {
  whoami(): Promise<string>;
}

async function calls(c: GawClient, count: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const proxy = c.service<Label>('label');
  for (let i = 0; i < count; i++) {
    const label = await proxy.whoami();
    seen.set(label, (seen.get(label) ?? 0) + 1);
  }
  return seen;
}

test('a client calls services by name, spread over every registered instance; discover and watch see them', {
  skip,
}, async () => {
  const redis = await startRedis();
  const secret = makeSecret();
  await serve(redis.url, secret, 'a', '127.0.0.2');
  await serve(redis.url, secret, 'b', '127.0.0.3');
  const c = client(redis.url, secret);
  assert.equal(await c.call('label.echo', [42]), 42);
  const seen = await calls(c, 60);
  assert.deepEqual([...seen.keys()].sort(), ['a', 'b']);
  assert.deepEqual(await c.discover('lab*'), ['label']);
  assert.deepEqual(await c.discover('nothing_*'), []);
  const events: WatchEvent[] = [];
  const unwatch = c.watch('label', (event) => events.push(event));
  await until(() => events.length === 2, 'an up for each instance');
  assert.deepEqual(events.map((e) => `${e.type} ${e.instance.host}`).sort(), ['up 127.0.0.2', 'up 127.0.0.3']);
  const started = performance.now();
  await serve(redis.url, secret, 'c', '127.0.0.4');
  await until(() => events.length === 3, 'the third instance pushed', 1000);
  const seenMs = performance.now() - started;
  const deadline = performance.now() + 2000;
  while (!(await calls(c, 10)).has('c')) assert.ok(performance.now() < deadline, 'calls reach the new instance');
  console.log(`# a new instance was seen by the client ${seenMs.toFixed(1)} ms after listen() returned`);
  unwatch();
});

test('a graceful stop under load fails no call: the stopped instance drains, then leaves the registry', {
  skip,
}, async () => {
  const redis = await startRedis();
  const secret = makeSecret();
  const a = await serve(redis.url, secret, 'a');
  await serve(redis.url, secret, 'b');
  const c = client(redis.url, secret);
  const events: WatchEvent[] = [];
  c.watch('label', (event) => events.push(event));
  await until(() => events.length === 2, 'both up');
  const proxy = c.service<Label>('label');
  let isRunning = true;
  let failures = 0;
  let done = 0;
  const workers = Array.from({ length: 16 }, async () => {
    while (isRunning) {
      try {
        await proxy.whoami();
        done++;
      } catch (err) {
        failures++;
        console.log(`# failed: ${(err as GawError).code} ${(err as Error).message}`);
      }
    }
  });
  await until(() => done > 200, 'calls under way');
  const stoppedPort = a.address.port;
  await a.close();
  const afterStop = done;
  await until(() => done > afterStop + 200, 'calls after the stop');
  isRunning = false;
  await Promise.all(workers);
  assert.equal(failures, 0);
  const types = events.filter((e) => e.instance.port === stoppedPort).map((e) => e.type);
  assert.deepEqual(types, ['up', 'drain', 'down']);
  assert.deepEqual([...(await calls(c, 20)).keys()], ['b']);
});

test('with no instance left a call fails fast with GAW_ERR_NO_ENDPOINT; a misnamed service too', { skip }, async () => {
  const redis = await startRedis();
  const secret = makeSecret();
  const a = await serve(redis.url, secret, 'a');
  const c = client(redis.url, secret);
  assert.equal(await c.call('label.whoami'), 'a');
  await a.close();
  await until(() => c.pendingCount === 0 && c.connectionCount === 0, 'the connection drained', 3000);
  // The flap guard holds the last removal for one heartbeat; then calls fail at once.
  let error: unknown;
  const deadline = performance.now() + 3000;
  while (performance.now() < deadline) {
    const started = performance.now();
    error = await c.call('label.whoami').then(
      () => undefined,
      (err: unknown) => err,
    );
    if ((error as GawError | undefined)?.code === 'GAW_ERR_NO_ENDPOINT') {
      assert.ok(performance.now() - started < 100, 'failed fast');
      break;
    }
  }
  assert.equal((error as GawError).code, 'GAW_ERR_NO_ENDPOINT');
  await assert.rejects(c.call('nobody.whoami'), { code: 'GAW_ERR_NO_ENDPOINT', message: /nobody/ });
});

test('Redis killed: known names keep being called (stale view); a name never read fails fast', { skip }, async () => {
  const redis = await startRedis();
  const secret = makeSecret();
  await serve(redis.url, secret, 'a');
  await serve(redis.url, secret, 'b');
  const c = client(redis.url, secret);
  await calls(c, 10);
  await redis.stop();
  const seen = await calls(c, 100);
  assert.deepEqual([...seen.keys()].sort(), ['a', 'b']);
  const started = performance.now();
  await assert.rejects(c.call('other.whoami'), (err: GawError) => {
    assert.equal(err.code, 'GAW_ERR_DISCOVERY_UNAVAILABLE');
    assert.match(err.message, /the registry at redis\+unix:/);
    return true;
  });
  const failedMs = performance.now() - started;
  console.log(`# a never-read name failed after ${failedMs.toFixed(1)} ms with Redis down`);
  assert.ok(failedMs < 1000);
});

test('a server bound to 0.0.0.0 without advertise refuses to listen, naming --advertise', { skip }, async () => {
  const redis = await startRedis();
  const secret = makeSecret();
  await assert.rejects(serve(redis.url, secret, 'a', '0.0.0.0'), {
    code: 'GAW_ERR_INVALID_OPTION',
    message: /--advertise/,
  });
});

test('discovery options are checked: endpoints beside discovery, discover() without it', () => {
  assert.throws(() => new GawClient({ discovery: 'redis://127.0.0.1:1', endpoints: ['127.0.0.1:1'] }), {
    code: 'GAW_ERR_INVALID_OPTION',
    message: /endpoints and discovery/,
  });
  assert.throws(() => new GawClient({ discovery: 'http://x' }), { code: 'GAW_ERR_INVALID_OPTION' });
  assert.throws(() => new GawClient({ discovery: { url: 'redis://127.0.0.1:1', ttlMs: 'x' as never } }), {
    message: /discovery\.ttlMs/,
  });
  const plain = new GawClient({ port: 1 });
  assert.throws(() => plain.watch('x', () => {}), { message: /discovery option/ });
  return assert.rejects(plain.discover('x'), { message: /discovery option/ });
});
