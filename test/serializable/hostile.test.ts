// Hostile and broken input: unknown and dangerous tags, wrong shapes, prototype pollution attempts,
// extreme nesting, cycles, values that cannot be encoded, and bytes that are not JSON / msgpack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr } from 'msgpackr';
import { SerializationError, UsageError } from '../../src/errors.js';
import { Registry, createCodec, type Codec } from '../../src/serializable/index.js';

class MathResult {
  constructor(
    public header = '',
    public result: unknown = 0,
  ) {}
}
const registry = new Registry().register(MathResult, { tag: 'MathResult' });
const json = createCodec('json', { registry });
const msgpack = createCodec('msgpack', { registry });
/** Writes arbitrary plain data as msgpack, so tests can send what our encoder never would. */
const rawPackr = new Packr({ useRecords: false, structuredClone: false, moreTypes: false });

/** The same plain wire data as bytes for each codec. */
function asBytes(data: unknown): Array<[Codec, Uint8Array]> {
  return [
    [json, Buffer.from(JSON.stringify(data))],
    [msgpack, rawPackr.pack(data)],
  ];
}

function serializationError(code: string, check?: (err: SerializationError) => boolean) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof SerializationError, `expected a SerializationError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (check !== undefined) assert.ok(check(err), `unexpected: ${err.message} (path ${err.path})`);
    return true;
  };
}

test('unregistered tags, including names of built-in JavaScript objects, are unknown tags named in the error', () => {
  const tags = [
    'constructor',
    '__proto__',
    'toString',
    'Object',
    'Function',
    'hasOwnProperty',
    'prototype',
    'Array',
    'eval',
    'NoSuchClass',
  ];
  for (const tag of tags) {
    for (const [codec, bytes] of asBytes({ x: [{ _t: tag, _v: {} }] })) {
      assert.throws(
        () => codec.revive(codec.decode(bytes), 'params'),
        serializationError('GAW_ERR_UNKNOWN_TAG', (e) => e.path === 'params.x[0]' && e.message.includes(`"${tag}"`)),
      );
    }
  }
});

test('a tag that is not a string is rejected, and attacker-chosen tags are shown sanitised and truncated', () => {
  for (const tag of [1, null, true, [], { a: 1 }]) {
    assert.throws(
      () => registry.decode({ _t: tag, _v: 1 }),
      serializationError('GAW_ERR_UNKNOWN_TAG', (e) => /not a string/.test(e.message)),
    );
  }
  const nasty = `\u001b[31mred\n\u202eevil${'x'.repeat(500)}`;
  assert.throws(
    () => registry.decode({ _t: nasty }),
    serializationError(
      'GAW_ERR_UNKNOWN_TAG',
      (e) =>
        !/[\u0000-\u001f\u007f-\uffff]/.test(e.message) &&
        e.message.length < 300 &&
        e.message.includes('\\u001b[31mred\\u000a\\u202eevil'),
    ),
  );
});

test('tagged values of the wrong shape are bad tagged values naming the tag and path', () => {
  const bad: unknown[] = [
    { _t: 'MathResult', _v: { header: 'h' }, extra: 1 },
    { _t: 'MathResult', _v: [1, 2] },
    { _t: 'MathResult', _v: 'text' },
    { _t: 'MathResult', _v: null },
    { _t: 'MathResult' },
    { _t: 'datetime', _v: 1700000000 },
    { _t: 'datetime', _v: 'yesterday' },
    { _t: 'datetime', _v: '2023-02-29T00:00:00Z' },
    { _t: 'datetime', _v: '2024-01-01T24:00:00Z' },
    { _t: 'set', _v: { a: 1 } },
    { _t: 'set' },
    { _t: 'tuple', _v: 'abc' },
    { _t: 'map', _v: [[1]] },
    { _t: 'map', _v: [1, 2] },
    { _t: 'map', _v: {} },
    { _t: 'bigint', _v: '1.5' },
    { _t: 'bigint', _v: 12 },
    { _t: 'bigint', _v: '9'.repeat(20_000) },
    { _t: 'bytes', _v: 'abc' },
    { _t: 'bytes', _v: '!!!!' },
    { _t: 'bytes', _v: [1, 2] },
    { _t: 'undefined', _v: 0 },
    { _t: 'number', _v: 'nan' },
    { _t: 'uuid', _v: 'not-a-uuid' },
    { _t: 'object', _v: [] },
  ];
  for (const wire of bad) {
    const tag = (wire as { _t: string })._t;
    for (const [codec, bytes] of asBytes({ list: [0, wire] })) {
      assert.throws(
        () => codec.revive(codec.decode(bytes), 'result'),
        serializationError(
          'GAW_ERR_BAD_TAGGED_VALUE',
          (e) => e.message.includes(`"${tag}"`) || e.message.includes('"extra"'),
        ),
        JSON.stringify(wire).slice(0, 80),
      );
    }
  }
});

test('a bigint of 10,000 digits is accepted, with or without a sign; 10,001 digits is a bad tagged value', () => {
  for (const sign of ['', '-']) {
    const atLimit = `${sign}${'9'.repeat(10_000)}`;
    const overLimit = `${sign}${'9'.repeat(10_001)}`;
    for (const [codec, bytes] of asBytes({ _t: 'bigint', _v: atLimit }))
      assert.equal(codec.revive(codec.decode(bytes), 'result'), BigInt(atLimit));
    for (const [codec, bytes] of asBytes({ _t: 'bigint', _v: overLimit })) {
      assert.throws(
        () => codec.revive(codec.decode(bytes), 'result'),
        serializationError('GAW_ERR_BAD_TAGGED_VALUE', (e) => e.message.includes('at most 10000 digits')),
      );
    }
  }
});

test('errors inside sets, maps, tuples and class fields name the path of the offending value', () => {
  const cases: Array<[unknown, string, string]> = [
    [
      {
        m: {
          _t: 'map',
          _v: [
            [1, 2],
            [{ _t: 'nope' }, 1],
          ],
        },
      },
      'm[1][0]',
      'GAW_ERR_UNKNOWN_TAG',
    ],
    [
      {
        m: {
          _t: 'map',
          _v: [
            [1, 2],
            [3, { _t: 'set', _v: 1 }],
          ],
        },
      },
      'm[1][1]',
      'GAW_ERR_BAD_TAGGED_VALUE',
    ],
    [{ m: { _t: 'map', _v: [[1, 2], 5] } }, 'm[1]', 'GAW_ERR_BAD_TAGGED_VALUE'],
    [{ s: { _t: 'set', _v: [1, 2, { _t: 'Function' }] } }, 's[2]', 'GAW_ERR_UNKNOWN_TAG'],
    [{ t: { _t: 'tuple', _v: [{ _t: 'datetime', _v: 'soon' }] } }, 't[0]', 'GAW_ERR_BAD_TAGGED_VALUE'],
    [{ _t: 'MathResult', _v: { result: { list: [0, { _t: 'toString' }] } } }, 'result.list[1]', 'GAW_ERR_UNKNOWN_TAG'],
    [{ o: { _t: 'object', _v: { _t: 1, 'a b': { _t: 'x' } } } }, 'o["a b"]', 'GAW_ERR_UNKNOWN_TAG'],
  ];
  for (const [wire, path, code] of cases) {
    for (const [codec, bytes] of asBytes(wire)) {
      assert.throws(
        () => codec.revive(codec.decode(bytes)),
        serializationError(code, (e) => e.path === path && e.message.includes(` at ${path}`)),
      );
    }
  }
});

const pollutionAttempts = [
  '{"__proto__": {"polluted": "yes"}}',
  '{"a": {"__proto__": {"polluted": "yes"}}, "b": {"_t": "MathResult", "_v": {"header": "x"}}}',
  '{"__proto__": {"_t": "MathResult", "_v": {"header": "x"}}}',
  '{"_t": "object", "_v": {"__proto__": {"polluted": "yes"}, "_t": 1}}',
  '{"_t": "MathResult", "_v": {"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}}',
  '{"constructor": {"prototype": {"polluted": "yes"}}, "x": {"_t": "set", "_v": []}}',
  '{"_t": "map", "_v": [["__proto__", {"polluted": "yes"}], [{"__proto__": {"polluted": "yes"}}, 1]]}',
  '[{"_t": "set", "_v": [{"__proto__": {"polluted": "yes"}, "d": {"_t": "datetime", "_v": "2020-01-01"}}]}]',
  '{"_t": "MathResult", "_v": {"result": {"__proto__": {"_t": "MathResult", "_v": {"header": "deep"}}}}}',
];

function assertNoPollution(): void {
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.ok(!Object.hasOwn(Object.prototype, 'polluted'));
  assert.equal(Object.getPrototypeOf(MathResult.prototype), Object.prototype);
  assert.ok(!Object.hasOwn(MathResult.prototype, 'polluted'));
  assert.equal(MathResult.prototype.constructor, MathResult);
}

/** Every object in the decoded value has Object.prototype, null, a Map/Set/Date prototype or a class prototype. */
function assertSanePrototypes(value: unknown, seen = new Set<unknown>()): void {
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  const allowed = [
    Object.prototype,
    Array.prototype,
    MathResult.prototype,
    Map.prototype,
    Set.prototype,
    Date.prototype,
    null,
  ];
  assert.ok(allowed.includes(Object.getPrototypeOf(value)), 'unexpected prototype');
  const children =
    value instanceof Map ? [...value.entries()].flat() : value instanceof Set ? [...value] : Object.values(value);
  for (const child of children) assertSanePrototypes(child, seen);
}

test('__proto__ and constructor keys anywhere in decoded data never change a prototype, in either codec', () => {
  for (const text of pollutionAttempts) {
    const data: unknown = JSON.parse(text);
    const [[, jsonBytes], [, msgpackBytes]] = asBytes(data);
    if (text.includes('__proto__'))
      assert.ok(Buffer.from(msgpackBytes!).includes('__proto__'), 'the msgpack bytes really carry the key');
    const fromJson = json.revive(json.decode(jsonBytes!));
    const fromMsgpack = msgpack.revive(msgpack.decode(msgpackBytes!));
    assertNoPollution();
    assertSanePrototypes(fromJson);
    assert.deepStrictEqual(fromMsgpack, fromJson, text);
  }
  const plain = json.revive(json.decode(Buffer.from(pollutionAttempts[0]!))) as object;
  assert.equal(Object.getPrototypeOf(plain), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(plain, '__proto__')?.value, { polluted: 'yes' });
  const revived = json.revive(json.decode(Buffer.from(pollutionAttempts[2]!))) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(revived), Object.prototype);
  assert.ok(Object.getOwnPropertyDescriptor(revived, '__proto__')?.value instanceof MathResult);
});

test('a __proto__ key survives a round trip through both codecs as an ordinary key', () => {
  const value = JSON.parse('{"__proto__": [1, {"__proto__": "inner"}], "_t": "escaped too"}') as object;
  for (const codec of [json, msgpack]) {
    const back = codec.revive(codec.decode(codec.encode({ value }))) as { value: object };
    assert.deepStrictEqual(back.value, value);
    assert.equal(Object.getPrototypeOf(back.value), Object.prototype);
    assertNoPollution();
  }
});

test('a million levels of nesting is a clear depth error in both codecs, not a stack overflow', () => {
  const n = 1_000_000;
  const inputs: Array<[Codec, Uint8Array]> = [
    [json, Buffer.from('['.repeat(n) + ']'.repeat(n))],
    [json, Buffer.from(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)],
    [json, Buffer.from('['.repeat(n))],
    [msgpack, Buffer.concat([Buffer.alloc(n, 0x91), Buffer.from([0xc0])])],
    [msgpack, Buffer.concat([Buffer.alloc(n * 3, Buffer.from([0x81, 0xa1, 0x61])), Buffer.from([0x01])])],
    [msgpack, Buffer.alloc(n, 0xdc)],
  ];
  for (const [codec, bytes] of inputs) {
    assert.throws(
      () => codec.decode(bytes),
      serializationError('GAW_ERR_DEPTH_EXCEEDED', (e) => /maxDepth \(64\)/.test(e.message)),
    );
  }
});

test('the depth limit is exact and configurable, and applies to registry.decode and encode too', () => {
  const nest = (depth: number): unknown => {
    let v: unknown = 0;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  };
  for (const codec of [json, msgpack]) {
    assert.deepStrictEqual(codec.decode(codec.encode(nest(64))), nest(64));
    assert.throws(() => codec.encode(nest(65)), serializationError('GAW_ERR_DEPTH_EXCEEDED'));
    assert.throws(
      () => codec.decode(Buffer.from(codec === json ? JSON.stringify(nest(65)) : rawPackr.pack(nest(65)))),
      serializationError('GAW_ERR_DEPTH_EXCEEDED'),
    );
  }
  const shallow = createCodec('json', { registry, maxDepth: 3 });
  assert.deepStrictEqual(shallow.decode(Buffer.from('[[[1]]]')), [[[1]]]);
  assert.throws(
    () => shallow.decode(Buffer.from('{"a":[{"b":[1]}]}')),
    serializationError('GAW_ERR_DEPTH_EXCEEDED', (e) => e.path === 'a[0].b'),
  );
  assert.throws(() => registry.decode(nest(100_000)), serializationError('GAW_ERR_DEPTH_EXCEEDED'));
  assert.throws(() => registry.encode(nest(100_000)), serializationError('GAW_ERR_DEPTH_EXCEEDED'));
  // Tag wrappers count: 30 nested instances are 60 wire levels, 40 would be 80.
  const chain = (depth: number): unknown => {
    let v: unknown = 0;
    for (let i = 0; i < depth; i++) v = new MathResult('h', v);
    return v;
  };
  assert.ok(json.encode(chain(30)).length > 0);
  assert.throws(
    () => json.encode(chain(40)),
    serializationError('GAW_ERR_DEPTH_EXCEEDED', (e) => e.path.startsWith('result.result')),
  );
});

test('a cycle on encode is an error naming where it closes', () => {
  const a: Record<string, unknown> = { name: 'a' };
  a.self = a;
  assert.throws(
    () => registry.encode(a),
    serializationError('GAW_ERR_UNENCODABLE', (e) => e.message === 'cannot encode a cycle: self refers back to (root)'),
  );
  const items: unknown[] = [1, 2, 3];
  const r = new MathResult('h', { items });
  items.push(new Map([['back', r]]));
  assert.throws(
    () => json.encode({ jsonrpc: '2.0', id: 1, result: r }),
    serializationError('GAW_ERR_UNENCODABLE', (e) =>
      /cycle: result\.result\.items\[3\]\[0\]\[1\] refers back to result$/.test(e.message),
    ),
  );
  const shared = { s: 1 };
  assert.deepStrictEqual(
    registry.decode(registry.encode([shared, shared])),
    [shared, shared],
    'shared references are not cycles',
  );
});

test('values that cannot be encoded are errors naming their path, never a silent {}', () => {
  class Unregistered {
    v = 1;
  }
  const cases: Array<[unknown, string, RegExp]> = [
    [{ result: { items: [0, 1, 2, () => 1] } }, 'result.items[3]', /a function/],
    [{ result: { items: [0, 1, 2, Symbol('s')] } }, 'result.items[3]', /a symbol/],
    [{ result: new Unregistered() }, 'result', /an instance of Unregistered at result: its class is not registered/],
    [{ 'weird key': [new WeakMap()] }, '["weird key"][0]', /WeakMap/],
    [{ p: Promise.resolve(1) }, 'p', /Promise/],
    [{ d: new Date(NaN) }, 'd', /an invalid Date/],
    [{ t: new Int32Array(2) }, 't', /Int32Array/],
    [new Set([1, () => 0]), '[1]', /a function/],
    [new Map([[() => 0, 1]]), '[0][0]', /a function/],
    [new MathResult('h', { deep: [Symbol.iterator] }), 'result.deep[0]', /a symbol/],
  ];
  for (const [value, path, message] of cases) {
    for (const codec of [json, msgpack]) {
      assert.throws(
        () => codec.encode(value),
        serializationError('GAW_ERR_UNENCODABLE', (e) => e.path === path && message.test(e.message)),
      );
    }
  }
  const throwing = {
    ok: 1,
    get bad(): unknown {
      throw new Error('getter failed');
    },
  };
  assert.throws(
    () => registry.encode({ outer: throwing }),
    serializationError('GAW_ERR_UNENCODABLE', (e) => e.path === 'outer.bad' && /getter failed/.test(e.message)),
  );
});

test('bytes that are not valid JSON or msgpack give GAW_ERR_DECODE saying so', () => {
  const valid = msgpack.encode({
    jsonrpc: '2.0',
    id: 1,
    result: new MathResult('x', [1.5, 'two', null, true, Buffer.from('b')]),
  });
  for (let end = 0; end < valid.length; end++) {
    assert.throws(
      () => msgpack.decode(valid.subarray(0, end)),
      serializationError('GAW_ERR_DECODE', (e) => /not valid msgpack/.test(e.message)),
      `prefix ${end}`,
    );
  }
  const badMsgpack = [
    Buffer.concat([valid, Buffer.from([0xc0])]),
    Buffer.from([0xd6, 0xff, 0, 0, 0, 1]), // timestamp extension
    Buffer.from([0xc7, 0x01, 0x65, 0x00]), // ext 8
    Buffer.from([0xd4, 0x72, 0x00]), // msgpackr's record definition
    Buffer.from([0xc1]),
    Buffer.from([0x81, 0x01, 0x02]), // integer map key
    Buffer.from([0x81, 0x90, 0x02]), // array map key
    Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]), // 4 billion items announced
    Buffer.from([0xdb, 0x7f, 0xff, 0xff, 0xff, 0x61]), // a 2 GiB string announced
  ];
  for (const bytes of badMsgpack)
    assert.throws(() => msgpack.decode(bytes), serializationError('GAW_ERR_DECODE'), bytes.toString('hex'));
  const badJson = ['', '{', '{"a":1}x', "{'a':1}", 'NaN', '[1,]', '\ufeff{}x'].map((s) => Buffer.from(s));
  badJson.push(Buffer.from([0x22, 0xff, 0x22]), Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])); // invalid UTF-8, a lone surrogate
  for (const bytes of badJson)
    assert.throws(
      () => json.decode(bytes),
      serializationError('GAW_ERR_DECODE', (e) => /not valid (JSON|UTF-8)/.test(e.message)),
    );
  assert.throws(() => json.decode('{}' as never), UsageError);
});

test('registry.decode rejects values that no parser produces instead of passing them on', () => {
  for (const value of [new Date(0), () => 1, Symbol('x'), 1n, new Map(), new MathResult()]) {
    assert.throws(
      () => registry.decode({ a: [value] }),
      serializationError('GAW_ERR_DECODE', (e) => e.path === 'a[0]'),
    );
  }
});
