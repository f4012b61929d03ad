// The sealers' piecewise form (sealParts, which Connection writes as one writev for large frames)
// against the whole-frame form, and the cbc opener's own PKCS#7 check: a frame with a good tag but
// malformed padding is refused like any other authentication failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { createOpener, createSealer } from '../../src/postoffice/seal.js';

const encKey = randomBytes(32);
const macKey = randomBytes(32);
const sizes = [0, 1, 15, 16, 17, 4096, 70_000];

for (const suite of [0, 1, 2, 3]) {
  test(`suite ${suite}: the pieces of a frame joined are the whole frame, and open to the payload`, () => {
    const iv = () => Buffer.alloc(16, 9);
    const whole = createSealer(suite, encKey, macKey, { nextIv: iv });
    const pieces = createSealer(suite, encKey, macKey, { nextIv: iv });
    const opener = createOpener(suite, encKey, macKey);
    for (const size of sizes) {
      const payload = randomBytes(size);
      const frame = whole.seal(1, payload);
      const parts = pieces.sealParts(1, payload);
      assert.ok(Buffer.concat(parts).equals(frame), `${size} bytes`);
      const opened = opener.open(frame);
      assert.equal(opened.type, 1);
      assert.ok(opened.payload.equals(payload), `${size} bytes open`);
    }
    assert.equal(whole.seq, sizes.length);
    assert.equal(pieces.seq, sizes.length);
  });
}

/** A cbc frame at seq 0 whose plaintext is `plain` as is (the caller decides the padding), correctly tagged. */
function cbcFrameWithPlaintext(plain: Buffer): Buffer {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', encKey, iv).setAutoPadding(false);
  const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(1 + 16 + ct.length + 32, 0);
  head[4] = 1;
  const body = Buffer.concat([head, iv, ct]);
  const tag = createHmac('sha256', macKey).update(Buffer.alloc(8)).update(body).digest();
  return Buffer.concat([body, tag]);
}

test('cbc: well-formed padding written by hand opens to the payload', () => {
  const plain = Buffer.concat([Buffer.from('hello'), Buffer.alloc(11, 11)]);
  const opened = createOpener(2, encKey, macKey).open(cbcFrameWithPlaintext(plain));
  assert.equal(opened.payload.toString(), 'hello');
});

for (const [name, tail] of [
  ['a pad byte of 0', Buffer.alloc(16, 0)],
  ['a pad byte above 16', Buffer.alloc(16, 17)],
  ['pad bytes that disagree', Buffer.concat([Buffer.alloc(15, 4), Buffer.from([3])])],
] as const) {
  test(`cbc: a good tag over ${name} is refused as an authentication failure`, () => {
    assert.throws(() => createOpener(2, encKey, macKey).open(cbcFrameWithPlaintext(tail)), {
      code: 'GAW_ERR_AUTH_FAILED',
    });
  });
}
