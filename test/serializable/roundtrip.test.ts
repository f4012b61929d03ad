// Round trips of every built-in and registered type through both codecs, the exact wire forms
// (Python Gaw's included), the object escape, and pass-through of plain data without copies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, createCodec, type Codec } from '../../src/serializable/index.js';

class MathResult {
  constructor(
    public header = '',
    public result: unknown = 0,
  ) {}
}
class Point {
  constructor(
    public x = 0,
    public y = 0,
  ) {}
}

const registry = new Registry().register(MathResult, { tag: 'MathResult' }).register(Point, { tag: 'Point' });
const codecs: Codec[] = [createCodec('json', { registry }), createCodec('msgpack', { registry })];

function roundTrip(codec: Codec, value: unknown): unknown {
  return codec.revive(codec.decode(codec.encode(value)));
}

/** One of every kind of value, nested and in arrays. */
function sampleValues(): Record<string, unknown> {
  const point = new Point(1, 2);
  return {
    text: 'héllo ✓ \u0000 \ud83d\ude00',
    numbers: [0, -1, 1.5, 2 ** 53 - 1, -(2 ** 31), 1e300, Number.MIN_VALUE],
    nonFinite: [NaN, Infinity, -Infinity],
    flags: [true, false, null],
    date: new Date('2024-02-29T23:59:59.123Z'),
    farDate: new Date(-8.64e15),
    set: new Set([1, 'a', point, new Set([2])]),
    map: new Map<unknown, unknown>([
      ['k', 1],
      [point, new Date(0)],
      [42, [1, 2]],
      [{ _t: 'x' }, 'escaped key'],
    ]),
    bigints: [0n, -123n, 2n ** 200n],
    bytes: Buffer.from([0, 1, 2, 253, 254, 255]),
    emptyBytes: Buffer.alloc(0),
    holes: [1, undefined, 3],
    looksTagged: { _t: 'MathResult', _v: { header: 'not a class' } },
    looksTaggedNested: { _t: { _t: 'x' }, other: [{ _t: 1 }] },
    result: new MathResult('hello!', [point, new MathResult('inner', new Map([[1, new Set([point])]]))]),
    deepArray: [[[[['leaf']]]]],
    'odd key ✓': { '': 'empty key', constructor: 'fine', toString: 'also fine' },
  };
}

test('every built-in and registered type survives a round trip through both codecs', () => {
  for (const codec of codecs) {
    const value = sampleValues();
    assert.deepStrictEqual(roundTrip(codec, value), value, `${codec.name} round trip`);
    assert.deepStrictEqual(roundTrip(codec, [value, value]), [value, value]);
  }
});

test('decoded instances have the registered prototype and methods work', () => {
  for (const codec of codecs) {
    const back = roundTrip(codec, { result: new MathResult('h', new Point(3, 4)) }) as { result: MathResult };
    assert.equal(Object.getPrototypeOf(back.result), MathResult.prototype);
    assert.equal(Object.getPrototypeOf(back.result.result), Point.prototype);
  }
});

test('top-level scalars, undefined and empty containers round-trip', () => {
  for (const codec of codecs) {
    for (const value of ['', 0, -0.5, true, null, undefined, [], {}, [undefined], new Set(), new Map()]) {
      assert.deepStrictEqual(roundTrip(codec, value), value);
    }
  }
});

test('an undefined object property is left out, as JSON does; in arrays it is kept', () => {
  for (const codec of codecs) {
    assert.deepStrictEqual(roundTrip(codec, { a: 1, b: undefined, c: [undefined] }), { a: 1, c: [undefined] });
    const point = Object.assign(new Point(), { x: undefined, y: 2 });
    assert.deepStrictEqual(roundTrip(codec, point), Object.assign(Object.create(Point.prototype), { y: 2 }));
  }
});

test('a JSON-RPC reply carrying a registered class has the Python Gaw wire form', () => {
  const json = codecs[0]!;
  const text = json.encode({ jsonrpc: '2.0', id: 1, result: new MathResult('Hello!', 200) }).toString('utf8');
  assert.equal(text, '{"jsonrpc":"2.0","id":1,"result":{"_t":"MathResult","_v":{"header":"Hello!","result":200}}}');
});

test('Python Gaw JSON decodes into the right classes and built-ins', () => {
  const json = codecs[0]!;
  const wire = Buffer.from(
    JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      result: {
        r: { _v: { header: 'Hello!', result: 200 }, _t: 'MathResult' },
        when: { _t: 'datetime', _v: '2016-07-29 11:18:20.480054' },
        aware: { _t: 'datetime', _v: '2016-07-29T11:18:20.480054+02:00' },
        day: { _t: 'datetime', _v: '2016-07-29' },
        pair: { _t: 'tuple', _v: [1, 2, 3] },
        ids: { _t: 'set', _v: [0, 1, 2] },
        uuid: { _t: 'uuid', _v: '06335E84-2872-4914-8c5d-3ed07d2a2f16' },
      },
    }),
  );
  const got = json.revive(json.decode(wire)) as { result: Record<string, unknown> };
  const expected = Object.assign(Object.create(MathResult.prototype), { header: 'Hello!', result: 200 });
  assert.deepStrictEqual(got.result.r, expected);
  assert.ok(got.result.r instanceof MathResult);
  assert.equal((got.result.when as Date).toISOString(), '2016-07-29T11:18:20.480Z');
  assert.equal((got.result.aware as Date).toISOString(), '2016-07-29T09:18:20.480Z');
  assert.equal((got.result.day as Date).toISOString(), '2016-07-29T00:00:00.000Z');
  assert.deepStrictEqual(got.result.pair, [1, 2, 3]);
  assert.deepStrictEqual(got.result.ids, new Set([0, 1, 2]));
  assert.equal(got.result.uuid, '06335e84-2872-4914-8c5d-3ed07d2a2f16');
});

test('each built-in tag has its documented JSON wire form', () => {
  const cases: Array<[unknown, unknown]> = [
    [new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)), { _t: 'datetime', _v: '2024-01-02T03:04:05.006Z' }],
    [new Set([1, 2]), { _t: 'set', _v: [1, 2] }],
    [new Map([[1, 'a']]), { _t: 'map', _v: [[1, 'a']] }],
    [12345678901234567890n, { _t: 'bigint', _v: '12345678901234567890' }],
    [Buffer.from('hi'), { _t: 'bytes', _v: 'aGk=' }],
    [new Uint8Array([255]), { _t: 'bytes', _v: '/w==' }],
    [undefined, { _t: 'undefined' }],
    [NaN, { _t: 'number', _v: 'NaN' }],
    [-Infinity, { _t: 'number', _v: '-Infinity' }],
    [
      { _t: 'a', b: 1 },
      { _t: 'object', _v: { _t: 'a', b: 1 } },
    ],
    [new Point(1, 2), { _t: 'Point', _v: { x: 1, y: 2 } }],
  ];
  for (const [value, wire] of cases) {
    assert.deepStrictEqual(registry.encode(value), wire);
    assert.deepStrictEqual(registry.decode(wire), value instanceof Uint8Array ? Buffer.from(value) : value);
  }
});

test('msgpack carries bytes as bin, never as base64, and decodes them as Buffers', () => {
  const msgpack = codecs[1]!;
  const payload = Buffer.alloc(300, 0xab);
  const bytes = msgpack.encode({ data: payload });
  assert.ok(bytes.length < 320, `300 bytes of payload took ${bytes.length} bytes`);
  assert.ok(bytes.includes(Buffer.from([0xc5, 0x01, 0x2c])), 'a bin 16 header for 300 bytes');
  const decoded = msgpack.decode(bytes) as { data: Buffer };
  assert.ok(Buffer.isBuffer(decoded.data));
  const back = msgpack.revive(decoded) as { data: Buffer };
  assert.ok(Buffer.isBuffer(back.data));
  assert.deepStrictEqual(back.data, payload);
  const fromPlainView = msgpack.decode(new Uint8Array(bytes)) as { data: Buffer };
  assert.ok(Buffer.isBuffer(fromPlainView.data), 'a plain Uint8Array input still gives Buffers');
  assert.notEqual(fromPlainView.data.buffer, bytes.buffer, 'decoded bytes are copies, not views into the frame');
});

test('plain data passes through encode and decode without being copied', () => {
  const plain = { jsonrpc: '2.0', id: 7, params: [1, 'two', { three: [3], four: null }] };
  assert.equal(registry.encode(plain), plain);
  assert.equal(registry.decode(plain), plain);
  const mixed = { keep: { a: [1, 2] }, change: [1, new Point()] };
  const encoded = registry.encode(mixed) as typeof mixed;
  assert.notEqual(encoded, mixed);
  assert.equal(encoded.keep, mixed.keep, 'an unchanged subtree is shared, not copied');
  assert.deepStrictEqual(mixed.change[1], new Point(), 'the input is not modified');
});
