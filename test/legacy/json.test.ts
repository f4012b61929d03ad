import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePythonJson, stringifyPython } from '../../src/legacy/index.js';
import { loadTranscript } from './transcript.js';

// Expected texts below were produced by Python 3's json.dumps with its default arguments.
test('nested data is written with Python json.dumps separators, big integers digit for digit', () => {
  const value = {
    succ: true,
    data: {
      _v: { resp_to: 2n ** 127n + 5n, success: true, payload: [1, -2, 0.5, null, false, [], {}] },
      _t: 'ResponseDataType',
    },
  };
  assert.equal(
    stringifyPython(value),
    '{"succ": true, "data": {"_v": {"resp_to": 170141183460469231731687303715884105733, "success": true, "payload": [1, -2, 0.5, null, false, [], {}]}, "_t": "ResponseDataType"}}',
  );
});

test('strings are escaped to ASCII exactly as Python escapes them', () => {
  const text = 'tab\there "quoted" back\\slash\n\r\b\f\x00\x1f\x7f é ü € 😀 \u2028';
  assert.equal(
    stringifyPython(text),
    String.raw`"tab\there \"quoted\" back\\slash\n\r\b\f\u0000\u001f\u007f \u00e9 \u00fc \u20ac \ud83d\ude00 \u2028"`,
  );
  assert.equal(parsePythonJson(stringifyPython(text)), text);
});

test('non-finite numbers, negative zero and bigints are written as Python writes them', () => {
  assert.equal(
    stringifyPython([1.5, -0, 1e300, NaN, Infinity, -Infinity, 123456789012345678n]),
    '[1.5, -0.0, 1e+300, NaN, Infinity, -Infinity, 123456789012345678]',
  );
});

test('an object of exactly _t and _v is written _v first, as Python Gaw orders it', () => {
  assert.equal(
    stringifyPython({ _t: 'MathResult', _v: { header: 'Hello!', result: 200 } }),
    '{"_v": {"header": "Hello!", "result": 200}, "_t": "MathResult"}',
  );
  assert.equal(stringifyPython({ _t: 'x', other: 1 }), '{"_t": "x", "other": 1}');
});

test('values JSON cannot carry are refused with a path naming where they are', () => {
  assert.throws(() => stringifyPython({ a: [1, () => 1] }), { code: 'GAW_ERR_UNENCODABLE', path: 'a[1]' });
  assert.throws(() => stringifyPython({ when: new Date(0) }), {
    code: 'GAW_ERR_UNENCODABLE',
    message: /Date instance .* at when$/,
  });
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  assert.throws(() => stringifyPython(cycle), { code: 'GAW_ERR_UNENCODABLE', message: /cycle at self/ });
  let deep: unknown = 1;
  for (let i = 0; i < 200; i++) deep = [deep];
  assert.throws(() => stringifyPython(deep), { code: 'GAW_ERR_DEPTH_EXCEEDED' });
  assert.equal(stringifyPython({ a: undefined, b: [undefined] }), '{"b": [null]}');
});

test('integers beyond 2^53 parse to exact bigints and smaller ones to numbers', () => {
  const value = parsePythonJson(
    '{"id": 258329654927362612894167002166723608577, "n": 9007199254740991, "m": -9007199254740993, "f": 1.5e3}',
  ) as Record<string, unknown>;
  assert.equal(value.id, 258329654927362612894167002166723608577n);
  assert.equal(value.n, 9007199254740991);
  assert.equal(value.m, -9007199254740993n);
  assert.equal(value.f, 1500);
});

test('Python-only literals NaN and Infinity are read', () => {
  const value = parsePythonJson('[NaN, Infinity, -Infinity, -1]') as number[];
  assert.ok(Number.isNaN(value[0]));
  assert.deepEqual(value.slice(1), [Infinity, -Infinity, -1]);
});

test('every JSON payload in the Python transcript writes back to its exact text', () => {
  const payloads = loadTranscript()
    .filter((read) => !read.isAbridged)
    .map((read) => read.bytes.toString('utf8'))
    .map((text) => text.slice(text.indexOf('\n') + 1))
    .filter((text) => text.length > 0);
  assert.equal(payloads.length, 5);
  for (const text of payloads) assert.equal(stringifyPython(parsePythonJson(text)), text);
});

test('a "__proto__" key stays an own data property and never changes the prototype', () => {
  const value = parsePythonJson('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.deepEqual(Object.keys(value), ['__proto__', 'a']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

const badTexts: [label: string, text: string, code: string][] = [
  ['trailing text', '{} x', 'GAW_ERR_DECODE'],
  ['an unterminated string', '"abc', 'GAW_ERR_DECODE'],
  ['a raw control character in a string', '"a\nb"', 'GAW_ERR_DECODE'],
  ['an invalid escape', '"\\q"', 'GAW_ERR_DECODE'],
  ['a leading zero', '[01]', 'GAW_ERR_DECODE'],
  ['a missing value', '{"a": }', 'GAW_ERR_DECODE'],
  ['a trailing comma', '[1,]', 'GAW_ERR_DECODE'],
  ['a non-string key', '{1: 2}', 'GAW_ERR_DECODE'],
  ['empty input', '   ', 'GAW_ERR_DECODE'],
  ['an integer of 5000 digits', '9'.repeat(5000), 'GAW_ERR_DECODE'],
  ['100 000 nested arrays', '['.repeat(100_000), 'GAW_ERR_DEPTH_EXCEEDED'],
];

for (const [label, text, code] of badTexts) {
  test(`parsing refuses ${label} with a clear error`, () => {
    assert.throws(
      () => parsePythonJson(text),
      (err: Error & { code?: string }) => err.code === code && /JSON/.test(err.message),
    );
  });
}

test('nesting up to the depth limit parses and one level more is refused', () => {
  assert.doesNotThrow(() => parsePythonJson('['.repeat(72) + ']'.repeat(72)));
  assert.throws(() => parsePythonJson('['.repeat(73) + ']'.repeat(73)), { code: 'GAW_ERR_DEPTH_EXCEEDED' });
});
