import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LegacyFrameDecoder, encodeFrame, frameBounds, legacyModes } from '../../src/legacy/index.js';
import type { FrameBounds } from '../../src/legacy/index.js';
import { loadTranscript, streamOf } from './transcript.js';

const MiB = 1024 * 1024;
const plainBounds: FrameBounds = frameBounds(legacyModes.plain, 16 * MiB);
const complete = loadTranscript().filter((read) => !read.isAbridged);

/** The frame bodies of a stream, fed in pieces cut at `cuts`. */
function decodeAll(stream: Buffer, cuts: number[], bounds = plainBounds): Buffer[] {
  const decoder = new LegacyFrameDecoder(bounds);
  const bodies: Buffer[] = [];
  let from = 0;
  for (const at of [...cuts, stream.length]) {
    decoder.push(stream.subarray(from, at), (body) => bodies.push(Buffer.from(body)));
    from = at;
  }
  assert.equal(decoder.hasPartialFrame, false);
  return bodies;
}

function bodiesOf(direction: 'C>S' | 'S>C'): Buffer[] {
  return decodeAll(streamOf(complete, direction), []);
}

test('the transcript streams decode into the JSON payloads Python Gaw sent', () => {
  const requests = bodiesOf('C>S');
  const replies = bodiesOf('S>C');
  assert.equal(requests.length, 3);
  assert.equal(replies.length, 2);
  for (const body of [...requests, ...replies]) assert.doesNotThrow(() => JSON.parse(body.toString('utf8')));
  assert.match(requests[0]!.toString(), /"path": "math_service\/plus"/);
  assert.match(replies[1]!.toString(), /"MathResult"/);
});

test('encoding each payload reproduces the exact bytes Python Gaw put on the wire', () => {
  for (const direction of ['C>S', 'S>C'] as const) {
    const stream = streamOf(complete, direction);
    const again = Buffer.concat(bodiesOf(direction).map((body) => encodeFrame(body)));
    assert.deepEqual(again, stream);
  }
  assert.deepEqual(encodeFrame(Buffer.from('{}')), Buffer.from('2\n{}'));
});

test('a stream split at every byte, or fed one byte at a time, decodes to the same frames', () => {
  for (const direction of ['C>S', 'S>C'] as const) {
    const stream = streamOf(complete, direction);
    const whole = bodiesOf(direction);
    for (let at = 1; at < stream.length; at++) assert.deepEqual(decodeAll(stream, [at]), whole, `split at ${at}`);
    const everyByte = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(decodeAll(stream, everyByte), whole);
  }
});

test('a started frame is reported as partial until its last byte arrives', () => {
  const decoder = new LegacyFrameDecoder(plainBounds);
  const bodies: Buffer[] = [];
  assert.equal(decoder.hasPartialFrame, false);
  decoder.push(Buffer.from('1'), (body) => bodies.push(body));
  assert.equal(decoder.hasPartialFrame, true);
  decoder.push(Buffer.from('0\n01234'), (body) => bodies.push(body));
  assert.equal(decoder.hasPartialFrame, true);
  decoder.push(Buffer.from('567893\nabc'), (body) => bodies.push(body));
  assert.equal(decoder.hasPartialFrame, false);
  assert.deepEqual(bodies.map(String), ['0123456789', 'abc']);
});

const hostileHeaders: [label: string, bytes: string, code: string][] = [
  ['a negative length', '-5\nabcde', 'GAW_ERR_BAD_FRAME'],
  ['a plus sign', '+5\nabcde', 'GAW_ERR_BAD_FRAME'],
  ['a leading space', ' 5\nabcde', 'GAW_ERR_BAD_FRAME'],
  ['a carriage return', '5\r\nabcde', 'GAW_ERR_BAD_FRAME'],
  ['letters', 'abc\n', 'GAW_ERR_BAD_FRAME'],
  ['a GAWP/1 hello', 'GAWP\x01', 'GAW_ERR_BAD_FRAME'],
  ['an empty length', '\nabc', 'GAW_ERR_BAD_FRAME'],
  ['a zero length', '0\n', 'GAW_ERR_BAD_FRAME'],
  ['eleven digits', '12345678901\n', 'GAW_ERR_FRAME_TOO_LARGE'],
  ['eleven digits without a newline yet', '00000000001', 'GAW_ERR_FRAME_TOO_LARGE'],
  ['a length of 2^32', '4294967296\n', 'GAW_ERR_FRAME_TOO_LARGE'],
  ['the largest ten-digit length', '9999999999\n', 'GAW_ERR_FRAME_TOO_LARGE'],
];

for (const [label, bytes, code] of hostileHeaders) {
  test(`a header with ${label} is refused before any body byte is buffered`, () => {
    const decoder = new LegacyFrameDecoder(plainBounds);
    const frames: Buffer[] = [];
    assert.throws(() => decoder.push(Buffer.from(bytes, 'latin1'), (body) => frames.push(body)), { code });
    assert.equal(frames.length, 0);
    // A failed decoder stays failed: the caller must close the connection.
    assert.throws(() => decoder.push(Buffer.from('1\nx'), () => {}), { code: 'GAW_ERR_BAD_FRAME' });
  });
}

test('a length exactly at the cap is accepted and one byte more is refused', () => {
  const bounds: FrameBounds = { minBodyBytes: 1, maxBodyBytes: 100 };
  const bodies: Buffer[] = [];
  new LegacyFrameDecoder(bounds).push(encodeFrame(Buffer.alloc(100, 0x61)), (body) => bodies.push(body));
  assert.equal(bodies[0]!.length, 100);
  assert.throws(() => new LegacyFrameDecoder(bounds).push(Buffer.from('101\n'), () => {}), {
    code: 'GAW_ERR_FRAME_TOO_LARGE',
  });
});

test('leading zeros within ten digits are read as the decimal number they spell', () => {
  const bodies: Buffer[] = [];
  new LegacyFrameDecoder(plainBounds).push(Buffer.from('0000000003\nabc'), (body) => bodies.push(body));
  assert.deepEqual(bodies.map(String), ['abc']);
});

test('signed and encrypted modes refuse lengths no sealed payload can have', () => {
  const sign = frameBounds(legacyModes.sign, 1000);
  assert.throws(() => new LegacyFrameDecoder(sign).push(Buffer.from('32\n'), () => {}), { code: 'GAW_ERR_BAD_FRAME' });
  assert.doesNotThrow(() => new LegacyFrameDecoder(sign).push(Buffer.from('33\n'), () => {}));
  assert.throws(() => new LegacyFrameDecoder(sign).push(Buffer.from('1033\n'), () => {}), {
    code: 'GAW_ERR_FRAME_TOO_LARGE',
  });
  const encrypt = frameBounds(legacyModes.encrypt, 1000);
  assert.throws(() => new LegacyFrameDecoder(encrypt).push(Buffer.from('48\n'), () => {}), {
    code: 'GAW_ERR_BAD_FRAME',
  });
  assert.throws(() => new LegacyFrameDecoder(encrypt).push(Buffer.from('65\n'), () => {}), {
    code: 'GAW_ERR_BAD_FRAME',
  });
  assert.doesNotThrow(() => new LegacyFrameDecoder(encrypt).push(Buffer.from('64\n'), () => {}));
  assert.doesNotThrow(() => new LegacyFrameDecoder(encrypt).push(Buffer.from('240\n'), () => {}));
});
