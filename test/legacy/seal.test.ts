import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { legacyModes, openBody, resolveSealing, sealBody, sealFrame } from '../../src/legacy/index.js';
import { loadFixture } from '../helpers/fixtures.js';

interface CryptoVectors {
  secret: string;
  key_bytes: number;
  payload_utf8: string;
  signed_hex: string;
  encrypted_iv_hex: string;
  encrypted_hex: string;
}

const vectors = loadFixture<CryptoVectors>('gaw07-crypto-vectors.json');
const payload = Buffer.from(vectors.payload_utf8, 'utf8');
const signed = resolveSealing(vectors.secret, false);
const encrypted = resolveSealing(vectors.secret, true);

test('a secret selects the mode as Python Gaw does: none is plain, a secret signs, encrypt encrypts', () => {
  assert.equal(resolveSealing(undefined, undefined).mode, legacyModes.plain);
  assert.equal(signed.mode, legacyModes.sign);
  assert.equal(encrypted.mode, legacyModes.encrypt);
  assert.equal(signed.key!.length, vectors.key_bytes);
});

test('signing matches the bytes Python Gaw produced', () => {
  assert.equal(sealBody(signed, payload).toString('hex'), vectors.signed_hex);
  assert.deepEqual(openBody(signed, Buffer.from(vectors.signed_hex, 'hex')), payload);
});

test('encrypting with the vector IV matches the bytes Python Gaw produced, and they open to the payload', () => {
  const iv = Buffer.from(vectors.encrypted_iv_hex, 'hex');
  assert.equal(sealBody(encrypted, payload, iv).toString('hex'), vectors.encrypted_hex);
  assert.deepEqual(openBody(encrypted, Buffer.from(vectors.encrypted_hex, 'hex')), payload);
});

test('a frame carries the sealed body after its ASCII length, as on the wire', () => {
  const frame = sealFrame(encrypted, payload, Buffer.from(vectors.encrypted_iv_hex, 'hex'));
  assert.equal(frame.subarray(0, 4).toString('ascii'), '240\n');
  assert.equal(frame.subarray(4).toString('hex'), vectors.encrypted_hex);
});

test('each key length picks its AES variant, and every encryption draws a fresh IV', () => {
  for (const bytes of [16, 24, 32]) {
    const key = randomBytes(bytes);
    const sealing = resolveSealing(key.toString('base64'), true);
    const a = sealBody(sealing, payload);
    const b = sealBody(sealing, payload);
    assert.notDeepEqual(a.subarray(0, 16), b.subarray(0, 16));
    assert.deepEqual(openBody(sealing, a), payload);
    // Independently: AES-(8*bytes)-CBC over PKCS#7(HMAC | json) with the raw key.
    const mac = createHmac('sha256', key).update(payload).digest();
    const cipher = createCipheriv(`aes-${bytes * 8}-cbc`, key, a.subarray(0, 16));
    assert.deepEqual(a.subarray(16), Buffer.concat([cipher.update(Buffer.concat([mac, payload])), cipher.final()]));
  }
});

test('changing any byte of a signed body fails authentication', () => {
  const body = Buffer.from(vectors.signed_hex, 'hex');
  for (let i = 0; i < body.length; i += 7) {
    const tampered = Buffer.from(body);
    tampered[i]! ^= 0x01;
    assert.throws(() => openBody(signed, tampered), { code: 'GAW_ERR_AUTH_FAILED' }, `byte ${i}`);
  }
  assert.throws(() => openBody(signed, body.subarray(0, 32)), { code: 'GAW_ERR_AUTH_FAILED' });
});

test('changing any byte of an encrypted body fails authentication, the IV included', () => {
  const body = Buffer.from(vectors.encrypted_hex, 'hex');
  for (let i = 0; i < body.length; i++) {
    const tampered = Buffer.from(body);
    tampered[i]! ^= 0x80;
    assert.throws(() => openBody(encrypted, tampered), { code: 'GAW_ERR_AUTH_FAILED' }, `byte ${i}`);
  }
  assert.throws(() => openBody(encrypted, body.subarray(0, body.length - 16)), { code: 'GAW_ERR_AUTH_FAILED' });
  assert.throws(() => openBody(encrypted, body.subarray(0, body.length - 1)), { code: 'GAW_ERR_AUTH_FAILED' });
});

test('the wrong key fails authentication in both modes', () => {
  const other = randomBytes(24).toString('base64');
  assert.throws(() => openBody(resolveSealing(other, false), Buffer.from(vectors.signed_hex, 'hex')), {
    code: 'GAW_ERR_AUTH_FAILED',
  });
  assert.throws(() => openBody(resolveSealing(other, true), Buffer.from(vectors.encrypted_hex, 'hex')), {
    code: 'GAW_ERR_AUTH_FAILED',
  });
});

test('a correct MAC under invalid PKCS#7 padding still fails authentication', () => {
  const key = encrypted.key!;
  const json = Buffer.from('{}');
  const plain = Buffer.concat([createHmac('sha256', key).update(json).digest(), json]);
  const padBytes = 16 - (plain.length % 16);
  const seal = (padded: Buffer): Buffer => {
    const iv = randomBytes(16);
    const cipher = createCipheriv('aes-192-cbc', key, iv).setAutoPadding(false);
    return Buffer.concat([iv, cipher.update(padded), cipher.final()]);
  };
  const valid = Buffer.concat([plain, Buffer.alloc(padBytes, padBytes)]);
  assert.deepEqual(openBody(encrypted, seal(valid)), json);
  // The last byte still names the right pad length, so stripping it leaves JSON whose MAC verifies:
  // only the check of every pad byte can refuse it.
  const badInterior = Buffer.from(valid);
  badInterior[badInterior.length - 2] = 0;
  assert.throws(
    () => openBody(encrypted, seal(badInterior)),
    { code: 'GAW_ERR_AUTH_FAILED' },
    'a wrong byte inside the padding',
  );
  for (const badPad of [0, 17, 255]) {
    const padded = Buffer.from(valid);
    padded[padded.length - 1] = badPad;
    assert.throws(() => openBody(encrypted, seal(padded)), { code: 'GAW_ERR_AUTH_FAILED' }, `pad byte ${badPad}`);
  }
});

test('a bad secret is refused with GAW_ERR_BAD_SECRET and never shown', () => {
  const cases = ['not base64!!', Buffer.alloc(15, 7).toString('base64'), Buffer.alloc(33, 7).toString('base64'), ''];
  for (const secret of cases) {
    assert.throws(
      () => resolveSealing(secret, true),
      (err: Error & { code?: string }) =>
        err.code === 'GAW_ERR_BAD_SECRET' && (secret === '' || !err.message.includes(secret)),
    );
  }
  assert.throws(() => resolveSealing(undefined, true), {
    code: 'GAW_ERR_INVALID_OPTION',
    message: /encrypt needs a secret/,
  });
});
