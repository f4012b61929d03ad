// The registry without Node built-ins (serializable/portable.ts, used by gaw/browser) speaks the
// same wire forms as Node's: the same tags and the same base64, with bytes as plain Uint8Array
// where Node's gives Buffers. Malformed base64 is refused by both alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Registry as NodeRegistry } from '../../src/serializable/index.js';
import { Registry as PortableRegistry, decodeBase64, encodeBase64 } from '../../src/serializable/portable.js';

test('portable base64 matches Node for every length 0-64 and random bytes, and refuses what Node’s check refuses', () => {
  for (let n = 0; n <= 64; n++) {
    const bytes = randomBytes(n);
    const text = bytes.toString('base64');
    assert.equal(encodeBase64(new Uint8Array(bytes)), text, `encode ${n}`);
    assert.deepEqual(decodeBase64(text), new Uint8Array(bytes), `decode ${n}`);
  }
  for (const bad of ['A', 'AB=', 'AB==C===', 'A===', 'AB*=', 'ééé=', 'AB\nC', '=AAA', 'AA=A'])
    assert.equal(decodeBase64(bad), undefined, JSON.stringify(bad));
});

test('a portable registry gives the same wire data as a Node registry, and the same values back, bytes as Uint8Array', () => {
  class Point {
    constructor(
      public x = 0,
      public y = 0,
    ) {}
  }
  const node = new NodeRegistry().register(Point, { tag: 'Point' });
  const portable = new PortableRegistry().register(Point, { tag: 'Point' });
  const value = {
    at: new Date('2026-12-03T08:00:00.000Z'),
    tags: new Set(['a', 'b']),
    big: 12345678901234567890n,
    bytes: new Uint8Array([0, 1, 2, 250, 255]),
    point: new Point(3, 4),
    nan: Number.NaN,
  };
  const wire = portable.encode(value);
  assert.deepEqual(wire, node.encode(value));
  const back = portable.decode(JSON.parse(JSON.stringify(wire))) as typeof value;
  assert.ok(back.point instanceof Point);
  assert.equal(Object.getPrototypeOf(back.bytes), Uint8Array.prototype, 'a plain Uint8Array, not a Buffer');
  assert.deepEqual([...back.bytes], [0, 1, 2, 250, 255]);
  assert.ok(Buffer.isBuffer((node.decode(wire) as typeof value).bytes), "Node's registry still gives Buffers");
  assert.deepEqual({ ...back, bytes: undefined }, { ...(node.decode(wire) as typeof value), bytes: undefined });
  assert.throws(() => portable.decode({ _t: 'bytes', _v: 'AB*=' }), /bytes/);
});
