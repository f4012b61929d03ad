// The text writers of the call path (json-text.ts with the json codec's encodeMemberText) must write
// byte for byte what the codec writes for the whole message, fail where it fails, with the same
// error, and count depth the same way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  requestFromText,
  requestMessage,
  requestText,
  responseFromText,
  successResponse,
  successText,
} from '../../src/jsonrpc/index.js';
import { createCodec, createRawJsonCodec, Registry } from '../../src/serializable/index.js';
import type { JsonRpcId } from '../../src/jsonrpc/index.js';

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

const registry = new Registry({ maxDepth: 6 });
registry.register(Point, { tag: 'Point' });
const codec = createCodec('json', { registry });

const nested = (levels: number): unknown => (levels === 0 ? 1 : [nested(levels - 1)]);

const values: unknown[] = [
  [],
  [1, 2],
  [1.5, -0, 1e21, 2 ** 53 + 2, Number.MIN_VALUE],
  { a: 1, b: 'two', c: [true, false, null] },
  ['quote " backslash \\ tab \t newline \n', '\u2028\u2029', '\u0000\u001f\u007f', 'emoji 🎉', '\ud800 lone'],
  [new Point(1, 2), { _t: 'own tag key' }, new Map([[1, 'one']]), new Date(0), Buffer.from('hi'), 10n ** 30n],
  [Number.NaN, Number.POSITIVE_INFINITY],
  { nested: nested(3) },
];

test('a request written as text is the codec bytes of the whole request', () => {
  const methods = ['math.plus', 'a"b', 'ü/ß', '\u2028', 'x'.repeat(300)];
  for (const method of methods) {
    for (const params of [undefined, ...values]) {
      for (const id of [1, 2 ** 53 - 1]) {
        const whole = codec.encode(requestMessage(id, method, params as never)).toString();
        const text =
          params === undefined ? undefined : (codec.encodeMemberText?.(params, 'params') as string | undefined);
        assert.equal(requestText(id, method, text), whole, `${method} ${JSON.stringify(text)}`);
      }
    }
  }
});

test('a success written as text is the codec bytes of the whole response, for every id form', () => {
  const ids: JsonRpcId[] = [0, 7, -3, 1.25, 1e21, 'id', 'q"\\\n\u2028', '', null];
  for (const id of ids) {
    for (const result of [null, 3, 'text', ...values]) {
      const whole = codec.encode(successResponse(id, result)).toString();
      assert.equal(successText(id, codec.encodeMemberText?.(result, 'result') as string), whole);
    }
  }
});

test('the raw codec writes members as given, like its whole-message encode', () => {
  const raw = createRawJsonCodec();
  const result = { _t: 'Point', _v: [1, 2] };
  assert.equal(
    successText(4, raw.encodeMemberText?.(result, 'result') as string),
    raw.encode(successResponse(4, result)).toString(),
  );
});

test('a member fails where the whole message fails, with the same error, depth counted inside the message', () => {
  // maxDepth 6: the message object is one level, so the member may nest 5 more and not 6.
  assert.doesNotThrow(() => codec.encode(successResponse(1, nested(5))));
  assert.doesNotThrow(() => codec.encodeMemberText?.(nested(5), 'result'));
  const cases: [unknown, string][] = [
    [nested(6), 'result'],
    [[1, () => 1], 'params'],
    [{ a: Symbol('s') }, 'result'],
    [[new (class Unregistered {})()], 'params'],
  ];
  for (const [value, name] of cases) {
    const message = name === 'result' ? successResponse(1, value) : requestMessage(1, 'm', value as never);
    const whole = captured(() => codec.encode(message));
    const member = captured(() => codec.encodeMemberText?.(value, name));
    assert.ok(whole instanceof Error, 'the whole message must fail');
    assert.deepEqual(
      { code: (member as { code?: string }).code, message: (member as Error).message },
      { code: (whole as { code?: string }).code, message: whole.message },
    );
  }
});

test('JSON has no text for undefined: the writer says so instead of writing "undefined"', () => {
  assert.equal(createRawJsonCodec().encodeMemberText?.(undefined, 'result'), undefined);
});

function captured(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err;
  }
}

/** What a reader returns must be JSON.parse's own object (same members, same order) or nothing. */
function checkReader(read: (text: string, bytes: Uint8Array) => unknown, text: string): 'read' | 'whole' {
  const bytes = Buffer.from(text);
  let got: unknown;
  try {
    got = read(text, bytes);
  } catch {
    return 'whole'; // the codec then parses the text whole, errors and all
  }
  if (got === undefined) return 'whole';
  const parsed: unknown = JSON.parse(text);
  assert.deepEqual(got, parsed, text);
  assert.deepEqual(Object.keys(got as object), Object.keys(parsed as object), text);
  return 'read';
}

const requests = [
  '{"jsonrpc":"2.0","method":"math.plus","params":[1,2],"id":5}',
  '{"jsonrpc":"2.0","method":"m","id":0}',
  '{"jsonrpc":"2.0","method":"a.b","params":{"x":"ü🎉\\u2028","y":[{"_t":"Point","_v":[1,2]}]},"id":123456789012345}',
  '{"jsonrpc":"2.0","method":"","params":[],"id":1}',
];
const responses = [
  '{"jsonrpc":"2.0","id":5,"result":3}',
  '{"jsonrpc":"2.0","id":0,"result":null}',
  '{"jsonrpc":"2.0","id":99,"result":{"rows":["ü",1.5e300,{"a":[]}]}}',
  '{"jsonrpc":"2.0","id":7,"result":"}"}',
];

test('the short readers read their own writers output exactly, and anything else is parsed whole or equal', () => {
  for (const text of requests) assert.equal(checkReader(requestFromText, text), 'read', text);
  for (const text of responses) assert.equal(checkReader(responseFromText, text), 'read', text);
  const others = [
    '{"jsonrpc":"2.0","id":5,"result":3,"result":4}',
    '{"jsonrpc":"2.0","id":5,"result":3,"error":{"code":1,"message":"x"}}',
    '{"jsonrpc":"2.0","id":05,"result":3}',
    '{"jsonrpc":"2.0","id":1234567890123456,"result":3}',
    '{"jsonrpc":"2.0","id":5,"result":}',
    '{"jsonrpc":"2.0","id":5,"result":3}}',
    '{"jsonrpc":"2.0","method":"m","params":[1],"id":2,"id":3}',
    '{"jsonrpc":"2.0","method":"m\\"x","params":[1],"id":2}',
    '{"jsonrpc":"2.0","method":"m","params":[1],"extra":0,"id":2}',
    '{"jsonrpc":"2.0","method":"m","params":[1,"id":2}',
    '{"jsonrpc":"2.0","method":"m","params":1,"id":2}',
    '{"jsonrpc":"2.0","method":"m","params":[1],"id":}',
    '{"jsonrpc":"2.0","method":"m" ,"id":2}',
    '{"jsonrpc":"2.0","method":"m","id":2} ',
  ];
  for (const text of others) {
    checkReader(requestFromText, text);
    checkReader(responseFromText, text);
  }
});

test('mutated messages are read exactly or left to the whole parse (20,000 mutations)', () => {
  let seed = 21;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const alphabet = '{}[]",:0123456789 \\u-.eEtrunlfaidmsh\u00fc\u{1f389}';
  let read = 0;
  for (let round = 0; round < 20_000; round++) {
    const base = round % 2 === 0 ? requests[random(requests.length)]! : responses[random(responses.length)]!;
    const chars = [...base];
    for (let edits = 1 + random(3); edits > 0; edits--) {
      const at = random(chars.length + 1);
      const c = [...alphabet][random([...alphabet].length)]!;
      const kind = random(3);
      if (kind === 0) chars.splice(at, 1);
      else if (kind === 1) chars.splice(at, 0, c);
      else chars[at] = c;
    }
    const text = chars.join('');
    if (checkReader(round % 2 === 0 ? requestFromText : responseFromText, text) === 'read') read++;
  }
  // Some mutations keep the short form (a digit of a number, a character of a string): read them too.
  assert.ok(read > 300, `only ${read} mutations were read`);
});

test('a message with a multi-byte character is sliced by text, not by bytes', () => {
  const codecText = codec.encode(requestMessage(3, 'm', ['ü'.repeat(10), '🎉'])).toString();
  assert.deepEqual(requestFromText(codecText, Buffer.from(codecText)), JSON.parse(codecText));
});
