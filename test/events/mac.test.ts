import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { EventMac, fillRandom } from '../../src/events/mac.js';

test('the event MAC equals HMAC-SHA256 for every length around the scratch buffer and block sizes', () => {
  const key = randomBytes(32);
  const mac = new EventMac(key);
  for (const length of [0, 1, 31, 32, 55, 56, 63, 64, 65, 127, 128, 200, 4095, 4096, 4097, 70_000]) {
    const message = randomBytes(length);
    assert.deepEqual(mac.digest(message), createHmac('sha256', key).update(message).digest(), `length ${length}`);
  }
});

test('a digest is a fresh buffer: the next digest does not overwrite it', () => {
  const mac = new EventMac(randomBytes(32));
  const first = mac.digest(Buffer.from('a'));
  const copy = Buffer.from(first);
  mac.digest(Buffer.from('b'));
  assert.deepEqual(first, copy);
});

test('random ids cut from the pool never repeat across pool refills', () => {
  const seen = new Set<string>();
  const out = Buffer.alloc(32);
  for (let i = 0; i < 2_000; i++) {
    fillRandom(out, 8, 16);
    const id = out.toString('hex', 8, 24);
    assert.ok(!seen.has(id), `id ${i} repeated`);
    seen.add(id);
  }
  assert.deepEqual(out.subarray(0, 8), Buffer.alloc(8), 'bytes before `at` untouched');
  assert.deepEqual(out.subarray(24), Buffer.alloc(8), 'bytes after the id untouched');
});
