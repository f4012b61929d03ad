// Redis down: emit and broadcast fail at once with GAW_ERR_REDIS_UNAVAILABLE (no offline queue: a
// resolved emit means the event is in Redis); after Redis restarts empty they work again, and a
// durable group made again reads the new stream from its start, so no event emitted since is skipped.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { GawEvents } from '../../src/index.js';
import { redisEngine, startRedis } from '../helpers/redis-server.js';
import { makeSecret, until } from '../helpers/server-fixtures.js';

const { skip } = redisEngine;
const opened: GawEvents[] = [];
after(async () => {
  await Promise.allSettled(opened.map((bus) => bus.close()));
});

test('while Redis is down emit and broadcast fail fast; after a restart a durable group gets every event emitted since', {
  skip,
}, async () => {
  const redis = await startRedis();
  const secret = makeSecret();
  const options = { url: redis.url, secret, blockMs: 100, commandTimeoutMs: 1000 };
  const sender = new GawEvents({ ...options, source: 'sender' });
  const receiver = new GawEvents({ ...options, source: 'receiver' });
  opened.push(sender, receiver);
  const handled: unknown[] = [];
  await receiver.on('order.created', (value) => void handled.push(value), { group: 'billing' });
  await sender.emit('order.created', 'before');
  await until(() => handled.includes('before'), 'the event before the outage');

  await redis.stop();
  // The link notices the closed socket; from then on a send fails at once instead of queueing.
  const deadline = Date.now() + 5000;
  for (;;) {
    const failed = await sender.emit('order.created', 'probe').then(
      () => false,
      (err: { code?: string }) => err.code === 'GAW_ERR_REDIS_UNAVAILABLE',
    );
    if (failed) break;
    assert.ok(Date.now() < deadline, 'emit kept succeeding with Redis stopped');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  for (const send of [() => sender.emit('order.created', 'lost'), () => sender.broadcast('price.tick', 1)]) {
    const started = performance.now();
    await assert.rejects(send(), { code: 'GAW_ERR_REDIS_UNAVAILABLE', message: /not connected/ });
    const tookMs = performance.now() - started;
    assert.ok(tookMs < 200, `failed in ${tookMs.toFixed(0)} ms, not at once`);
  }

  await redis.restart();
  // Send as soon as Redis answers: before the receiver has noticed the restart and made its group again.
  const sent: number[] = [];
  const resumeBy = Date.now() + 10_000;
  while (sent.length === 0) {
    assert.ok(Date.now() < resumeBy, 'emit did not work again within 10 s of the restart');
    await sender.emit('order.created', 0).then(
      () => sent.push(0),
      () => new Promise((resolve) => setTimeout(resolve, 10)),
    );
  }
  for (let i = 1; i < 20; i++) {
    await sender.emit('order.created', i);
    sent.push(i);
  }
  await until(() => sent.every((i) => handled.includes(i)), 'every event emitted after the restart handled', 10_000);
  assert.ok(!handled.includes('lost'), 'an emit that failed was not stored');
});
