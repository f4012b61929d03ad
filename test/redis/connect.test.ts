import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectRedis, defineLuaScript } from '../../src/redis/index.js';
import type { RedisLink } from '../../src/redis/index.js';
import { redisEngine, startRedis } from '../helpers/redis-server.js';

const { skip } = redisEngine;

async function until(what: string, check: () => boolean | Promise<boolean>, deadlineMs = 5000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('commands and scripts run; a script survives a Redis restart (EVALSHA falls back to EVAL)', { skip }, async () => {
  const redis = await startRedis();
  const link = await connectRedis(redis.url, { commandTimeoutMs: 500 });
  try {
    assert.equal(await link.command(['PING']), 'PONG');
    const script = defineLuaScript("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    assert.equal(await link.script(script, ['k'], ['5']), 5);
    assert.equal(await link.script(script, ['k'], ['2']), 7);
    await redis.restart();
    await until('reconnected', async () => link.isReady && (await link.command(['PING']).catch(() => '')) === 'PONG');
    assert.equal(await link.script(script, ['k'], ['1']), 1);
    await assert.rejects(link.command(['NOSUCHCOMMAND']), /unknown command/i);
  } finally {
    await link.close();
  }
});

test('a command to a hung Redis fails after its timeout, and to a dead one at once', { skip }, async () => {
  const redis = await startRedis();
  const link = await connectRedis(redis.url, { commandTimeoutMs: 200, maxOutstanding: 3 });
  try {
    assert.equal(await link.command(['PING']), 'PONG');
    redis.kill('SIGSTOP');
    let started = performance.now();
    await assert.rejects(link.command(['PING']), { code: 'GAW_ERR_REDIS_UNAVAILABLE', message: /within 200 ms/ });
    assert.ok(performance.now() - started < 1000);
    await assert.rejects(link.command(['PING']), { code: 'GAW_ERR_REDIS_UNAVAILABLE' });
    await assert.rejects(link.command(['PING']), { code: 'GAW_ERR_REDIS_UNAVAILABLE' });
    started = performance.now();
    await assert.rejects(link.command(['PING']), { code: 'GAW_ERR_REDIS_UNAVAILABLE', message: /unanswered/ });
    assert.ok(performance.now() - started < 50, 'past the outstanding cap a command fails at once');
    redis.kill('SIGCONT');
    await until('answering again', async () => (await link.command(['PING']).catch(() => '')) === 'PONG');
    await redis.stop();
    await until('down', () => !link.isReady);
    started = performance.now();
    await assert.rejects(link.command(['PING']), { code: 'GAW_ERR_REDIS_UNAVAILABLE', message: /not connected/ });
    assert.ok(performance.now() - started < 50, `failed in ${performance.now() - started} ms`);
  } finally {
    link.destroy();
  }
});

test('a subscriber gets messages again after its connection is killed', { skip }, async () => {
  const redis = await startRedis();
  const sub = await connectRedis(redis.url, { commandTimeoutMs: 500 });
  const pub = await connectRedis(redis.url, { commandTimeoutMs: 500 });
  const links: RedisLink[] = [sub, pub];
  try {
    const got: string[] = [];
    let readies = 0;
    sub.onReady(() => readies++);
    await sub.subscribe('gaw:test', (message) => got.push(message));
    await pub.command(['PUBLISH', 'gaw:test', 'one']);
    await until('first message', () => got.includes('one'));
    await pub.command(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    await until('resubscribed', async () => {
      await pub.command(['PUBLISH', 'gaw:test', 'two']);
      return got.includes('two');
    });
    assert.ok(readies >= 1, 'onReady fired on the reconnect');
  } finally {
    for (const link of links) await link.close();
  }
});

test('the password in a URL is not in any error or label', { skip }, async () => {
  const redis = await startRedis(['--requirepass', 'hunter2-secret']);
  const wrong = await connectRedis(`redis+unix://:wrong-pass@${redis.socketPath}`, { commandTimeoutMs: 300 });
  const right = await connectRedis(`redis+unix://:hunter2-secret@${redis.socketPath}`, { commandTimeoutMs: 1000 });
  try {
    assert.equal(await right.command(['PING']), 'PONG');
    const err = await wrong.command(['PING']).catch((e: Error) => e);
    assert.ok(err instanceof Error);
    assert.doesNotMatch(`${err.message} ${wrong.target.label}`, /wrong-pass|hunter2/);
    assert.match(wrong.target.label, /:\*\*\*@/);
  } finally {
    wrong.destroy();
    await right.close();
  }
});
