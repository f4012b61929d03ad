// Seeded, table-driven fuzzing of both codecs: random values must round-trip exactly, and random or
// mutated input (bytes and wire trees) must only ever decode to a value or throw SerializationError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr, Unpackr } from 'msgpackr';
import { SerializationError } from '../../src/errors.js';
import { Registry, createCodec, type Codec } from '../../src/serializable/index.js';
import { decodeMsgpackSafe, scanMsgpack } from '../../src/serializable/msgpack-scan.js';

class MathResult {
  constructor(
    public header = '',
    public result: unknown = 0,
  ) {}
}
const registry = new Registry().register(MathResult, { tag: 'MathResult' });
const codecs: Codec[] = [createCodec('json', { registry }), createCodec('msgpack', { registry })];
const rawPackr = new Packr({ useRecords: false, structuredClone: false, moreTypes: false });
/** Object.prototype's own properties before any input is decoded: no input may add or change one. */
const objectPrototypeBefore = Object.getOwnPropertyDescriptors(Object.prototype);

function assertObjectPrototypeUntouched(): void {
  assert.deepStrictEqual(Object.getOwnPropertyDescriptors(Object.prototype), objectPrototypeBefore);
}

/** mulberry32: a small seeded PRNG, so every failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const keys = ['a', 'b', '_t', '_v', '__proto__', 'constructor', 'prototype', 'toString', '', 'ключ', 'x'.repeat(40)];
const tags = [
  'MathResult',
  'object',
  'datetime',
  'set',
  'tuple',
  'map',
  'bigint',
  'bytes',
  'undefined',
  'number',
  'uuid',
  'constructor',
  '__proto__',
  'toString',
  'Object',
  'Function',
  'Nope',
  '',
];
const strings = [
  '',
  'x',
  'héllo',
  '\u0000',
  '\ud83d\ude00',
  '__proto__',
  '_t',
  'y'.repeat(300),
  '2024-01-01T00:00:00Z',
  'AAEC',
  '-12',
];
const numbers = [
  0,
  1,
  -1,
  127,
  128,
  255,
  256,
  -32,
  -33,
  -129,
  65535,
  65536,
  -32769,
  2 ** 31,
  2 ** 32 + 1,
  -(2 ** 40),
  2 ** 53 - 1,
  0.5,
  -1.25,
  1e-300,
  3.4e38,
  1e308,
];

class Gen {
  constructor(readonly rand: () => number) {}
  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** Any encodable value whose round trip is exact (no -0; no undefined object properties). */
  value(depth: number): unknown {
    const kind = this.int(depth <= 0 ? 6 : 14);
    switch (kind) {
      case 0:
        return this.pick(strings);
      case 1:
        return this.pick(numbers) * (this.rand() < 0.5 ? 1 : -1) || 0;
      case 2:
        return this.pick([true, false, null]);
      case 3:
        return this.pick([NaN, Infinity, -Infinity, 0n, -(2n ** 70n), 12345n]);
      case 4:
        return new Date(this.int(2 ** 40) - 2 ** 39);
      case 5:
        return Buffer.from(Array.from({ length: this.int(40) }, () => this.int(256)));
      case 6:
      case 7:
        return Array.from({ length: this.int(this.rand() < 0.1 ? 20 : 4) }, () =>
          this.rand() < 0.05 ? undefined : this.value(depth - 1),
        );
      case 8:
      case 9:
        return this.object(depth - 1);
      case 10:
        return new Set(Array.from({ length: this.int(4) }, () => this.value(depth - 1)));
      case 11:
        return new Map(
          Array.from(
            { length: this.int(4) },
            () => [this.value(depth - 1), this.value(depth - 1)] as [unknown, unknown],
          ),
        );
      default:
        return new MathResult(this.pick(strings), this.value(depth - 1));
    }
  }
  object(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const count = this.int(this.rand() < 0.1 ? 20 : 5);
    for (let i = 0; i < count; i++) {
      const key = this.rand() < 0.3 ? `k${i}` : this.pick(keys);
      Object.defineProperty(out, key, {
        value: this.value(depth),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    return out;
  }
  /** Arbitrary plain wire data with hostile tagged values mixed in. */
  wire(depth: number): unknown {
    const r = this.int(depth <= 0 ? 3 : 8);
    if (r === 0) return this.pick(strings);
    if (r === 1) return this.pick([...numbers, true, false, null]);
    if (r === 2) return this.rand() < 0.5 ? this.pick(strings) : Buffer.from([1, 2, 3]);
    if (r <= 4) {
      const body = this.wire(depth - 1);
      const tagged: Record<string, unknown> = { _t: this.rand() < 0.9 ? this.pick(tags) : this.wire(0) };
      if (this.rand() < 0.9) tagged._v = this.rand() < 0.5 ? body : { header: body, result: this.wire(depth - 1) };
      if (this.rand() < 0.05) tagged.extra = 1;
      return tagged;
    }
    if (r === 5) return Array.from({ length: this.int(4) }, () => this.wire(depth - 1));
    if (r === 6)
      return [
        [this.wire(depth - 1), this.wire(depth - 1)],
        this.pick(['2016-07-29 11:18:20.480054', 'aGk=', '06335e84-2872-4914-8c5d-3ed07d2a2f16']),
      ];
    const out: Record<string, unknown> = {};
    for (let i = 0; i < this.int(4); i++) {
      Object.defineProperty(out, this.pick(keys), {
        value: this.wire(depth - 1),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    return out;
  }
}

/** Decodes and revives; only a value or a SerializationError may come out. */
function decodeOnlySafely(codec: Codec, bytes: Uint8Array, what: string): void {
  try {
    codec.revive(codec.decode(bytes), 'params');
  } catch (err) {
    assert.ok(
      err instanceof SerializationError,
      `${codec.name} ${what}: ${String(err)}\n${Buffer.from(bytes).toString('hex').slice(0, 200)}`,
    );
  }
}

function mutate(g: Gen, bytes: Uint8Array): Buffer {
  const b = Buffer.from(bytes);
  switch (g.int(5)) {
    case 0: // flip bits
      for (let i = 0; i < 1 + g.int(3) && b.length > 0; i++) b[g.int(b.length)]! ^= 1 << g.int(8);
      return b;
    case 1: // overwrite with interesting bytes
      for (let i = 0; i < 1 + g.int(3) && b.length > 0; i++)
        b[g.int(b.length)] = g.pick([
          0x00, 0x22, 0x5b, 0x7b, 0x7d, 0xc1, 0xc4, 0xd4, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0xff, 0x81, 0x91, 0xa9,
        ]);
      return b;
    case 2: // truncate
      return b.subarray(0, g.int(b.length + 1));
    case 3: {
      // insert random bytes
      const at = g.int(b.length + 1);
      const extra = Buffer.from(Array.from({ length: 1 + g.int(6) }, () => g.int(256)));
      return Buffer.concat([b.subarray(0, at), extra, b.subarray(at)]);
    }
    default: {
      // duplicate a slice
      const from = g.int(b.length + 1);
      const to = from + g.int(b.length - from + 1);
      return Buffer.concat([b.subarray(0, to), b.subarray(from, to), b.subarray(to)]);
    }
  }
}

test('random values of every kind round-trip exactly through both codecs', () => {
  const g = new Gen(prng(1));
  for (let i = 0; i < 1500; i++) {
    const value = g.value(4);
    for (const codec of codecs) {
      const bytes = codec.encode({ jsonrpc: '2.0', id: i, result: value });
      const back = codec.revive(codec.decode(bytes)) as { result: unknown };
      assert.deepStrictEqual(back.result, value, `case ${i} via ${codec.name}`);
    }
  }
  assertObjectPrototypeUntouched();
});

test('mutated and random bytes only ever decode to a value or throw SerializationError', () => {
  const g = new Gen(prng(2));
  for (let i = 0; i < 2500; i++) {
    const value = g.value(3);
    for (const codec of codecs) decodeOnlySafely(codec, mutate(g, codec.encode(value)), `mutation ${i}`);
  }
  for (let i = 0; i < 1000; i++) {
    const bytes = Buffer.from(Array.from({ length: g.int(64) }, () => g.int(256)));
    for (const codec of codecs) decodeOnlySafely(codec, bytes, `random ${i}`);
  }
});

test('random wire trees with hostile tags only ever decode to a value or throw SerializationError', () => {
  const g = new Gen(prng(3));
  let rejected = 0;
  for (let i = 0; i < 2500; i++) {
    const wire = g.wire(4);
    const inputs: Array<[Codec, Uint8Array]> = [
      [codecs[0]!, Buffer.from(JSON.stringify(wire))],
      [codecs[1]!, rawPackr.pack(wire)],
    ];
    for (const [codec, bytes] of inputs) {
      try {
        codec.revive(codec.decode(bytes), 'params');
      } catch (err) {
        assert.ok(err instanceof SerializationError, `${codec.name} case ${i}: ${String(err)}`);
        rejected++;
      }
    }
  }
  assert.ok(rejected > 1000, 'the generator really produces hostile input');
  assert.ok(rejected < 4900, 'and valid input too');
  assertObjectPrototypeUntouched();
});

test('the fallback msgpack decoder agrees with msgpackr on everything the scan accepts', () => {
  const g = new Gen(prng(4));
  const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number', copyBuffers: true });
  const handWritten = [
    [0xca, 0x3f, 0xc0, 0x00, 0x00], // float32 1.5
    [0xcf, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01], // uint64 2^53 + 1
    [0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe], // int64 -2
    [0xd0, 0x80],
    [0xd1, 0x80, 0x00],
    [0xd2, 0x80, 0x00, 0x00, 0x00],
    [0xdc, 0x00, 0x01, 0xc0],
    [0xdd, 0x00, 0x00, 0x00, 0x01, 0xc3],
    [0xdf, 0x00, 0x00, 0x00, 0x01, 0xa1, 0x61, 0xc2],
    [0xda, 0x00, 0x01, 0x62],
    [0xdb, 0x00, 0x00, 0x00, 0x01, 0x63],
    [0xc4, 0x01, 0x07],
    [0xc5, 0x00, 0x01, 0x07],
    [0xc6, 0x00, 0x00, 0x00, 0x01, 0x07],
  ].map((bytes) => Buffer.from(bytes));
  const generated = Array.from({ length: 1500 }, () =>
    rawPackr.pack(JSON.parse(JSON.stringify(g.wire(4)), (k, v) => (k === '__proto__' ? undefined : v))),
  );
  for (const bytes of [...handWritten, ...generated]) {
    assert.equal(scanMsgpack(bytes, 64), false);
    assert.deepStrictEqual(decodeMsgpackSafe(bytes), unpackr.unpack(bytes), bytes.toString('hex'));
  }
});
