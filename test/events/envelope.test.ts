// The event envelope as bytes: sealed and opened with no Redis, tampered at every byte, signed
// with another secret, oversized, stale, on the wrong name, and carrying class-tagged values.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { EventKeys, open, seal } from '../../src/events/envelope.js';
import type { OpenLimits } from '../../src/events/envelope.js';
import { Registry, createCodec } from '../../src/index.js';

class Money {
  constructor(
    public amount = 0,
    public currency = 'EUR',
  ) {}
}
const registry = new Registry();
registry.register(Money, { tag: 'Money' });
const codecs = { json: createCodec('json', { registry }), msgpack: createCodec('msgpack', { registry }) };
const secret = randomBytes(32).toString('base64');
const keys = new EventKeys(secret);
const now = 1_800_000_000_000;
const limits: OpenLimits = { maxBytes: 4096, expectedName: 'order.created', windowMs: 30_000, refMs: now };
const sealed = (data: unknown = { order: 7, total: new Money(12, 'USD') }, codec = codecs.msgpack) =>
  seal({ name: 'order.created', src: 'orders@host:1', data, nowMs: now }, keys, codec, 4096);

test('a sealed event opens to its value, with class-tagged values as real instances', () => {
  for (const codec of [codecs.json, codecs.msgpack]) {
    const opened = open(sealed(undefined, codec), keys, codecs, limits);
    assert.ok(opened.ok);
    assert.equal(opened.meta.name, 'order.created');
    assert.equal(opened.meta.src, 'orders@host:1');
    assert.equal(opened.meta.ts, now);
    assert.match(opened.meta.id, /^[A-Za-z0-9_-]{22}$/);
    const value = opened.value as { order: number; total: Money };
    assert.ok(value.total instanceof Money);
    assert.deepEqual({ ...value.total }, { amount: 12, currency: 'USD' });
  }
});

test('every event gets a fresh id', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const opened = open(sealed(i), keys, codecs, limits);
    assert.ok(opened.ok);
    ids.add(opened.meta.id);
  }
  assert.equal(ids.size, 100);
});

test('changing any single byte of an envelope gets it refused, never opened', () => {
  const bytes = sealed();
  for (let i = 0; i < bytes.length; i++) {
    const tampered = Buffer.from(bytes);
    tampered[i] = tampered[i]! ^ 0x01;
    const opened = open(tampered, keys, codecs, limits);
    assert.equal(opened.ok, false, `byte ${i} flipped was accepted`);
  }
});

test('an envelope signed with another secret is refused as forged', () => {
  const other = new EventKeys(randomBytes(32).toString('base64'));
  const forged = seal({ name: 'order.created', src: 'x', data: 1, nowMs: now }, other, codecs.json, 4096);
  const opened = open(forged, keys, codecs, limits);
  assert.deepEqual(opened.ok ? 'opened' : opened.reason, 'forged');
});

test('the event key is derived from the secret, not the secret itself', () => {
  // A MAC made with the raw secret (what a naive implementation would use) does not verify.
  const raw = Buffer.from(secret, 'base64');
  const bytes = sealed(1);
  const mac = createHmac('sha256', raw)
    .update(bytes.subarray(0, bytes.length - 32))
    .digest();
  assert.notDeepEqual(mac, bytes.subarray(bytes.length - 32));
});

test('a key ring signs with its highest key id and verifies with any of its keys', () => {
  const old = randomBytes(32).toString('base64');
  const current = randomBytes(32).toString('base64');
  const senderOld = new EventKeys(old);
  const ring = new EventKeys({ 1: old, 2: current });
  assert.equal(ring.signingKeyId, 2);
  const fromOld = seal({ name: 'a', src: '', data: 1, nowMs: now }, senderOld, codecs.json, 4096);
  const opened = open(fromOld, new EventKeys({ 0: old, 2: current }), codecs, { ...limits, expectedName: 'a' });
  assert.ok(opened.ok);
  const unknown = open(fromOld, new EventKeys({ 2: current }), codecs, { ...limits, expectedName: 'a' });
  assert.deepEqual(unknown.ok ? 'opened' : unknown.reason, 'unknown key');
});

test('an oversized envelope is refused before anything else is read, and cannot be sent', () => {
  const big = 'x'.repeat(5000);
  assert.throws(() => seal({ name: 'order.created', src: '', data: big, nowMs: now }, keys, codecs.json, 4096), {
    code: 'GAW_ERR_EVENT_TOO_LARGE',
  });
  const bytes = seal({ name: 'order.created', src: '', data: big, nowMs: now }, keys, codecs.json, 1 << 20);
  const opened = open(bytes, keys, codecs, limits);
  assert.deepEqual(opened.ok ? 'opened' : opened.reason, 'oversized');
});

test('an envelope outside the time window, or signed for another name, is refused', () => {
  const bytes = sealed(1);
  for (const refMs of [now + 30_001, now - 30_001]) {
    const opened = open(bytes, keys, codecs, { ...limits, refMs });
    assert.deepEqual(opened.ok ? 'opened' : opened.reason, 'stale');
  }
  assert.ok(open(bytes, keys, codecs, { ...limits, refMs: now + 30_000 }).ok);
  const moved = open(bytes, keys, codecs, { ...limits, expectedName: 'order.paid' });
  assert.deepEqual(moved.ok ? 'opened' : moved.reason, 'wrong name');
});

test('truncated envelopes and garbage are refused without throwing', () => {
  const bytes = sealed();
  for (let n = 0; n < bytes.length; n++) assert.equal(open(bytes.subarray(0, n), keys, codecs, limits).ok, false);
  for (let i = 0; i < 200; i++) assert.equal(open(randomBytes(i * 3), keys, codecs, limits).ok, false);
});

test('a signed envelope whose value names a class this side has not registered is refused as undecodable', () => {
  const tagged = seal({ name: 'order.created', src: '', data: new Money(1), nowMs: now }, keys, codecs.json, 4096);
  const unaware = createCodec('json', { registry: new Registry() });
  const opened = open(tagged, keys, { json: unaware, msgpack: unaware }, limits);
  assert.deepEqual(opened.ok ? 'opened' : opened.reason, 'undecodable');
});
