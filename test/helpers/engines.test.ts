import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { findEngine } from './engines.js';
import { redisEngine, startRedis } from './redis-server.js';

test('a missing engine skips with one line naming its Debian package', () => {
  if (process.env.GAW_REQUIRE_ENGINES === '1') {
    assert.throws(
      () => findEngine('gaw-no-such-engine', 'gaw-no-such-package'),
      /GAW_REQUIRE_ENGINES=1.*gaw-no-such-package/,
    );
    return;
  }
  const found = findEngine('gaw-no-such-engine', 'gaw-no-such-package');
  assert.equal(found.engine, undefined);
  assert.match(String(found.skip), /^gaw-no-such-engine not found: install the Debian package gaw-no-such-package/);
});

test('redis-server starts on a unix socket, answers PING, and is killed by pid', {
  skip: redisEngine.skip,
}, async () => {
  const redis = await startRedis();
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = connect(redis.socketPath);
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (text.endsWith('\r\n')) {
        socket.end();
        resolve(text);
      }
    });
    socket.once('error', reject);
    socket.write('PING\r\n');
  });
  assert.equal(reply, '+PONG\r\n');
  const pid = redis.pid;
  await redis.stop();
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  await redis.restart();
  assert.notEqual(redis.pid, pid);
});
