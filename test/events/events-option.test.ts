// `events: true` on GawServer and GawClient: the events use the Redis of the `discovery` option,
// so one registry URL serves both; without a discovery option (or a url) it is a clear error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GawClient, GawServer, on } from '../../src/index.js';
import { redisEngine, startRedis } from '../helpers/redis-server.js';
import { makeSecret, until } from '../helpers/server-fixtures.js';

const { skip } = redisEngine;

test('events: true reuses the discovery registry URL on the server and on the client', { skip }, async () => {
  const redis = await startRedis();
  const secret = makeSecret();
  const got: number[] = [];
  class Billing {
    static serviceName = 'billing';
    @on('order.created')
    charge(order: { id: number }) {
      got.push(order.id);
    }
  }
  const server = new GawServer({ host: '127.0.0.1', port: 0, secret, discovery: redis.url, events: true }).add(Billing);
  await server.listen();
  const client = new GawClient({ secret, discovery: { url: redis.url }, events: true });
  try {
    await client.events!.emit('order.created', { id: 7 });
    await server.events!.emit('order.created', { id: 8 });
    await until(() => got.length === 2, 'both events handled by the server', 10_000);
    assert.deepEqual(got.sort(), [7, 8]);
  } finally {
    await client.close();
    await server.close();
  }
});

test('events: true without a discovery option is refused, naming both options', () => {
  const secret = makeSecret();
  assert.throws(() => new GawServer({ port: 0, secret, events: true }), {
    code: 'GAW_ERR_INVALID_OPTION',
    message: /events need a redis URL: events.url, or the discovery option/,
  });
  assert.throws(() => new GawClient({ port: 1, secret, events: true }), /events need a redis URL/);
  assert.throws(() => new GawClient({ port: 1, secret, events: {} }), /events need a redis URL/);
});
