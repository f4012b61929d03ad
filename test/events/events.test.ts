// Events on a real redis-server (unix socket, killed by pid): broadcast to several subscribers,
// forged and oversized envelopes written straight into Redis refused and logged, a poison event
// dead-lettered, a subscriber that resubscribes after Redis restarts, and services subscribing
// with @on and the plain-JavaScript `static events`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createClient } from '@redis/client';
import { GawClient, GawEvents, GawServer, on } from '../../src/index.js';
import type { DeliveryMeta, EventMeta, GawEventsOptions } from '../../src/index.js';
import { redisEngine, startRedis } from '../helpers/redis-server.js';
import type { RedisServer } from '../helpers/redis-server.js';
import { capturingLogger, makeSecret, until } from '../helpers/server-fixtures.js';

const skip = redisEngine.skip;
let redis: RedisServer;
const secret = makeSecret();
const opened: GawEvents[] = [];

function events(options: Partial<GawEventsOptions> = {}): GawEvents {
  const bus = new GawEvents({ url: redis.url, secret, namespace: `t${randomBytes(4).toString('hex')}`, ...options });
  opened.push(bus);
  return bus;
}

/** A plain node-redis client: what someone with write access to Redis (and no secret) can do. */
async function rawRedis() {
  const client = createClient({ socket: { path: redis.socketPath, tls: false } });
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function pendingCount(raw: { sendCommand(args: string[]): Promise<unknown> }, stream: string, group: string) {
  const summary = (await raw.sendCommand(['XPENDING', stream, group])) as unknown[];
  return Number(summary[0]);
}

before(async () => {
  if (!skip) redis = await startRedis();
});
after(async () => {
  await Promise.allSettled(opened.map((bus) => bus.close()));
});

test('a broadcast reaches every one of three subscribers, class-tagged values and all', { skip }, async () => {
  const namespace = `b${randomBytes(4).toString('hex')}`;
  const sender = events({ namespace });
  const got: [number, unknown, EventMeta][] = [];
  for (let i = 0; i < 3; i++) {
    const subscriber = events({ namespace });
    await subscriber.on('cache.flush', (value, meta) => {
      got.push([i, value, meta as EventMeta]);
    });
  }
  const count = 50;
  for (let n = 0; n < count; n++) assert.equal(await sender.broadcast('cache.flush', { n, at: new Date(n) }), 3);
  await until(() => got.length === 3 * count, `${3 * count} deliveries`);
  for (let i = 0; i < 3; i++) {
    const mine = got.filter(([who]) => who === i).map(([, value]) => value as { n: number; at: Date });
    assert.deepEqual(
      mine.map((v) => v.n),
      [...Array(count).keys()],
    );
    assert.ok(mine.every((v) => v.at instanceof Date && v.at.getTime() === v.n));
  }
});

test('a forged broadcast and a forged stream entry are refused and logged, never delivered', { skip }, async () => {
  const namespace = `f${randomBytes(4).toString('hex')}`;
  const logger = capturingLogger();
  const receiver = events({ namespace, logger });
  const delivered: unknown[] = [];
  await receiver.on('order.created', (value) => delivered.push(['broadcast', value]));
  await receiver.on('order.created', (value) => delivered.push(['durable', value]), { group: 'billing' });
  // Sealed correctly, but with a secret the receiver does not hold.
  const forger = events({ namespace, secret: makeSecret() });
  await forger.broadcast('order.created', { forged: 1 });
  await forger.emit('order.created', { forged: 2 });
  // And plain garbage written by hand.
  const raw = await rawRedis();
  await raw.publish(`gaw:{${namespace}}:ev:order.created`, 'not an envelope');
  await raw.xAdd(`gaw:{${namespace}}:evs:order.created`, '*', { e: 'not an envelope either' });
  // A genuine event after them still arrives: the consumer survived.
  const sender = events({ namespace });
  await sender.broadcast('order.created', { real: 1 });
  await sender.emit('order.created', { real: 2 });
  await until(() => delivered.length === 2, 'the two genuine events');
  assert.deepEqual(delivered.sort(), [
    ['broadcast', { real: 1 }],
    ['durable', { real: 2 }],
  ]);
  assert.equal(receiver.stats.refused.forged, 2);
  assert.equal(receiver.stats.refused.malformed, 2);
  const warned = logger.lines.filter((l) => l.level === 'warn' && l.msg.includes('refused'));
  assert.ok(warned.some((l) => l.obj.reason === 'forged'));
  assert.ok(warned.some((l) => l.obj.reason === 'malformed'));
  // Refused stream entries are acknowledged: nothing stays pending to be redelivered.
  assert.equal(await pendingCount(raw, `gaw:{${namespace}}:evs:order.created`, 'billing'), 0);
  await raw.close();
});

test('an oversized event is refused by the sender and by the receiver', { skip }, async () => {
  const namespace = `o${randomBytes(4).toString('hex')}`;
  const receiver = events({ namespace, maxEventBytes: 1024 });
  const delivered: unknown[] = [];
  await receiver.on('blob', (value) => delivered.push(value));
  await receiver.on('blob', (value) => delivered.push(value), { group: 'g' });
  const small = events({ namespace, maxEventBytes: 1024 });
  await assert.rejects(small.broadcast('blob', 'x'.repeat(2000)), { code: 'GAW_ERR_EVENT_TOO_LARGE' });
  await assert.rejects(small.emit('blob', 'x'.repeat(2000)), { code: 'GAW_ERR_EVENT_TOO_LARGE' });
  // A sender allowed larger envelopes (same secret) gets past its own check; the receiver's holds.
  const large = events({ namespace, maxEventBytes: 1 << 20 });
  await large.broadcast('blob', 'x'.repeat(2000));
  await large.emit('blob', 'x'.repeat(2000));
  await large.broadcast('blob', 'ok');
  await large.emit('blob', 'ok');
  await until(() => delivered.length === 2, 'the small events');
  assert.deepEqual(delivered, ['ok', 'ok']);
  assert.equal(receiver.stats.refused.oversized, 2);
});

test('a handler that always fails is retried, then dead-lettered after maxDeliveries', { skip }, async () => {
  const namespace = `p${randomBytes(4).toString('hex')}`;
  const consumer = events({ namespace, visibilityMs: 100, maxDeliveries: 3 });
  const deliveries: number[] = [];
  const handled: unknown[] = [];
  await consumer.on(
    'job',
    (value, meta) => {
      if (value === 'poison') {
        deliveries.push((meta as DeliveryMeta).deliveries);
        throw new Error('cannot handle this');
      }
      handled.push(value);
    },
    { group: 'workers' },
  );
  const sender = events({ namespace });
  await sender.emit('job', 'poison');
  await sender.emit('job', 'fine');
  await until(() => consumer.stats.deadLettered === 1, 'the poison event dead-lettered');
  assert.deepEqual(deliveries, [1, 2, 3]);
  assert.deepEqual(handled, ['fine']);
  const raw = await rawRedis();
  const dead = await raw.xRange(`gaw:{${namespace}}:evs:job:dead`, '-', '+');
  assert.equal(dead?.length, 1);
  const { group, deliveries: count, error } = dead![0]!.message;
  assert.deepEqual({ group, count, error }, { group: 'workers', count: '3', error: 'cannot handle this' });
  assert.equal(await pendingCount(raw, `gaw:{${namespace}}:evs:job`, 'workers'), 0);
  await raw.close();
});

test('two groups each get every emitted event; the consumers of one group share them', { skip }, async () => {
  const namespace = `g${randomBytes(4).toString('hex')}`;
  const seen = { billingA: [] as number[], billingB: [] as number[], audit: [] as number[] };
  for (const [key, group] of [
    ['billingA', 'billing'],
    ['billingB', 'billing'],
    ['audit', 'audit'],
  ] as const) {
    await events({ namespace, batchSize: 4 }).on('order', (n) => void seen[key].push(n as number), { group });
  }
  const sender = events({ namespace });
  const count = 200;
  await Promise.all([...Array(count).keys()].map((n) => sender.emit('order', n)));
  await until(
    () => seen.audit.length === count && seen.billingA.length + seen.billingB.length === count,
    'every event in both groups',
  );
  assert.deepEqual(
    [...seen.billingA, ...seen.billingB].sort((a, b) => a - b),
    [...Array(count).keys()],
  );
  assert.deepEqual(
    [...seen.audit].sort((a, b) => a - b),
    [...Array(count).keys()],
  );
});

test('a broadcast subscriber resubscribes by itself after Redis restarts', { skip }, async () => {
  const namespace = `r${randomBytes(4).toString('hex')}`;
  const receiver = events({ namespace });
  const got: unknown[] = [];
  await receiver.on('ping', (value) => void got.push(value));
  const sender = events({ namespace });
  await sender.broadcast('ping', 'before');
  await until(() => got.includes('before'), 'the event before the restart');
  await redis.restart();
  // Both sides reconnect with backoff; keep sending until the subscriber hears one.
  const deadline = Date.now() + 10_000;
  let n = 0;
  while (!got.some((v) => typeof v === 'number')) {
    assert.ok(Date.now() < deadline, 'no broadcast arrived within 10 s of the restart');
    await sender.broadcast('ping', n++).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

test('services subscribe with @on and with static events; the group defaults to the service name', {
  skip,
}, async () => {
  const namespace = `s${randomBytes(4).toString('hex')}`;
  const got: string[] = [];
  class Billing {
    static serviceName = 'billing';
    constructor(readonly prefix: string) {}
    @on('order.created')
    charge(order: { id: number }, meta: DeliveryMeta) {
      got.push(`${this.prefix} charge ${order.id} group=${meta.group}`);
    }
    @on('cache.flush', { broadcast: true })
    flush(what: string) {
      got.push(`${this.prefix} flush ${what}`);
    }
  }
  class Audit {
    static serviceName = 'audit';
    static events = { record: 'order.created', note: { event: 'order.created', group: 'audit-notes' } };
    record(order: { id: number }, meta: DeliveryMeta) {
      got.push(`record ${order.id} group=${meta.group}`);
    }
    note(order: { id: number }, meta: DeliveryMeta) {
      got.push(`note ${order.id} group=${meta.group}`);
    }
  }
  const server = new GawServer({ port: 0, secret, events: { url: redis.url, namespace } }).add(Billing, 'B').add(Audit);
  await server.listen();
  const client = new GawClient({ port: server.address.port, secret, events: { url: redis.url, namespace } });
  try {
    await client.events!.emit('order.created', { id: 1 });
    await client.events!.broadcast('cache.flush', 'all');
    await until(() => got.length === 4, 'four handler runs');
    assert.deepEqual(got.sort(), [
      'B charge 1 group=billing',
      'B flush all',
      'note 1 group=audit-notes',
      'record 1 group=audit',
    ]);
  } finally {
    await client.close();
    await server.close();
  }
});

test('subscribing with a bad name, group or handler is refused with a clear error', { skip }, async () => {
  const bus = events();
  await assert.rejects(
    bus.on('bad name', () => {}),
    /event name or pattern must be/,
  );
  await assert.rejects(
    bus.on('ok', () => {}, { group: 'a b' }),
    /the group must be/,
  );
  await assert.rejects(bus.on('ok', 'nope' as never), /needs a handler function/);
  await assert.rejects(bus.emit('a*', 1), /event name must be/);
  assert.throws(() => new GawEvents({ url: redis.url } as GawEventsOptions), /need a secret/);
  assert.throws(() => new GawServer({ port: 0, events: redis.url }), /events need a secret/);
  assert.throws(() => on('x', { grup: 'y' } as never), /unknown option "grup"/);
});
