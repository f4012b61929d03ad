// RedisLink's binary modes (what events need): bulk-string replies as Buffers on request, and
// buffer-mode subscriptions whose messages arrive byte for byte, including bytes that are not UTF-8.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectRedis } from '../../src/redis/index.js';
import { redisEngine, startRedis } from '../helpers/redis-server.js';

const { skip } = redisEngine;
// Every byte value, twice: invalid UTF-8 would not survive a string round trip.
const binary = Buffer.from([
  ...Array.from({ length: 256 }, (_, i) => i),
  ...Array.from({ length: 256 }, (_, i) => 255 - i),
]);

test('hasBufferReplies returns binary values byte for byte; without it replies are strings', { skip }, async () => {
  const redis = await startRedis();
  const link = await connectRedis(redis.url, { commandTimeoutMs: 1000 });
  try {
    assert.equal(await link.command(['SET', 'bin', binary]), 'OK');
    const asBuffer = await link.command<Buffer>(['GET', 'bin'], { hasBufferReplies: true });
    assert.ok(Buffer.isBuffer(asBuffer));
    assert.ok(asBuffer.equals(binary), 'the same 512 bytes');
    const asString = await link.command<string>(['GET', 'bin']);
    assert.equal(typeof asString, 'string');
    assert.ok(!Buffer.from(asString, 'utf8').equals(binary), 'a string reply does not carry non-UTF-8 bytes');
  } finally {
    await link.close();
  }
});

test('a buffer-mode subscription (exact and pattern) gets binary messages unchanged; unsubscribing stops them', {
  skip,
}, async () => {
  const redis = await startRedis();
  const publisher = await connectRedis(redis.url, { commandTimeoutMs: 1000 });
  const subscriber = await connectRedis(redis.url, { commandTimeoutMs: 1000 });
  try {
    const exact: Buffer[] = [];
    const pattern: Array<[Buffer, string]> = [];
    const onExact = (message: Buffer) => exact.push(message);
    const onPattern = (message: Buffer, channel: Buffer) => pattern.push([message, channel.toString()]);
    await subscriber.subscribeBuffers('bin:one', onExact);
    await subscriber.subscribeBuffers('bin:*', onPattern, true);
    assert.equal(await publisher.command(['PUBLISH', 'bin:one', binary]), 2, 'two subscriptions received it');
    const deadline = Date.now() + 5000;
    while ((exact.length < 1 || pattern.length < 1) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(exact.length, 1);
    assert.ok(Buffer.isBuffer(exact[0]) && exact[0].equals(binary));
    assert.equal(pattern.length, 1);
    assert.ok(pattern[0]![0].equals(binary));
    assert.equal(pattern[0]![1], 'bin:one');
    await subscriber.unsubscribeBuffers('bin:one', onExact);
    await subscriber.unsubscribeBuffers('bin:*', onPattern, true);
    assert.equal(await publisher.command(['PUBLISH', 'bin:one', binary]), 0, 'no subscription left');
  } finally {
    await Promise.all([publisher.close(), subscriber.close()]);
  }
});
