import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeFrame,
  envelopeBytes,
  fromJsonRpc,
  fromPythonData,
  isSameId,
  parseJsonBytes,
  parsePythonJson,
  readReply,
  readRequest,
  replyEnvelope,
  requestEnvelope,
  toJsonRpc,
  toPythonData,
} from '../../src/legacy/index.js';
import type { LegacyRequest } from '../../src/legacy/index.js';
import { jsonOf, loadTranscript, wireFrames } from './transcript.js';

const reads = loadTranscript();
const PLUS_ID = 258329654927362612894167002166723608577n;
const MULTIPLY_ID = 258336591352990736736923316939575525377n;
const DIVIDE_ID = 159276877868897087571881748599570169857n;

const requestsOnWire = wireFrames(reads, 'C>S');
const repliesOnWire = wireFrames(reads, 'S>C');

const plus: LegacyRequest = { id: PLUS_ID, path: 'math_service/plus', args: [10, 20], kwargs: {} };
const multiply: LegacyRequest = { id: MULTIPLY_ID, path: 'math_service/multiply', args: [], kwargs: { a: 10, b: 20 } };
const divide: LegacyRequest = { id: DIVIDE_ID, path: 'math_service/divide', args: [1, 0], kwargs: {} };

test('our requests are byte for byte the frames Python Gaw sent, 128-bit ids included', () => {
  assert.equal(requestsOnWire.length, 3);
  [plus, multiply, divide].forEach((request, i) => {
    assert.deepEqual(encodeFrame(envelopeBytes(requestEnvelope(request))), requestsOnWire[i]);
  });
});

test("Python Gaw's requests parse to their path, args, kwargs and exact id", () => {
  const parsed = requestsOnWire.map((frame) => readRequest(parseJsonBytes(jsonOf(frame))));
  assert.deepEqual(parsed, [plus, multiply, divide]);
  assert.equal(typeof parsed[0]!.id, 'bigint');
});

test('our replies are byte for byte the frames Python Gaw sent back', () => {
  assert.equal(repliesOnWire.length, 3);
  const result = encodeFrame(envelopeBytes(replyEnvelope({ kind: 'result', respTo: PLUS_ID, payload: 'Hello!: 30' })));
  assert.deepEqual(result, repliesOnWire[0]);
  const mathResult = { _t: 'MathResult', _v: { header: 'Hello!', result: 200 } };
  assert.deepEqual(
    encodeFrame(envelopeBytes(replyEnvelope({ kind: 'result', respTo: MULTIPLY_ID, payload: mathResult }))),
    repliesOnWire[1],
  );
});

test("an unknown method's reply has Python Gaw's shape, with no traceback", () => {
  const ours = fromJsonRpc(
    { jsonrpc: '2.0', id: String(DIVIDE_ID), error: { code: -32601, message: 'Method not found' } },
    divide,
    (v) => v,
  );
  const theirs = parsePythonJson(jsonOf(repliesOnWire[2]!).toString()) as {
    data: { _v: { payload: { trace: string } } };
  };
  assert.match(theirs.data._v.payload.trace, /^Traceback/);
  theirs.data._v.payload.trace = '';
  assert.equal(envelopeBytes(replyEnvelope(ours)).toString(), envelopeBytes(theirs).toString());
});

test("Python Gaw's replies parse to results and exceptions with the exact id", () => {
  const replies = repliesOnWire.map((frame) => readReply(parseJsonBytes(jsonOf(frame))));
  assert.deepEqual(replies[0], { kind: 'result', respTo: PLUS_ID, payload: 'Hello!: 30' });
  assert.deepEqual(replies[1], {
    kind: 'result',
    respTo: MULTIPLY_ID,
    payload: { _v: { header: 'Hello!', result: 200 }, _t: 'MathResult' },
  });
  const exception = replies[2]!;
  assert.equal(exception.kind, 'exception');
  assert.ok(
    exception.kind === 'exception' &&
      exception.name === 'KeyError' &&
      exception.message === 'path: math_service/divide not found',
  );
});

test('a transport error (succ false) is read from data, or from the top level as the Python client expects', () => {
  const nested = readReply({
    succ: false,
    data: { name: 'DecodeError', message: 'signature verification failed', trace: null },
  });
  assert.deepEqual(nested, {
    kind: 'transport-error',
    name: 'DecodeError',
    message: 'signature verification failed',
    trace: '',
  });
  assert.equal(readReply({ succ: false, name: 'ValueError', message: 'x', trace: 't' }).kind, 'transport-error');
  assert.equal(
    envelopeBytes(replyEnvelope({ kind: 'transport-error', name: 'ValueError', message: 'bad', trace: '' })).toString(),
    '{"succ": false, "data": {"name": "ValueError", "message": "bad", "trace": ""}}',
  );
});

test('replies of the wrong shape are refused with GAW_ERR_BAD_RESPONSE naming the problem', () => {
  const bad: [unknown, RegExp][] = [
    [[], /succ/],
    [{ succ: true, data: { _t: 'Other', _v: {} } }, /ResponseDataType/],
    [{ succ: true, data: { _t: 'ResponseDataType', _v: { resp_to: null, success: true } } }, /resp_to/],
    [{ succ: true, data: { _t: 'ResponseDataType', _v: { resp_to: 1, success: 'yes' } } }, /success/],
    [{ succ: true, data: { _t: 'ResponseDataType', _v: { resp_to: 1, success: false, payload: 'boom' } } }, /payload/],
  ];
  for (const [value, message] of bad) assert.throws(() => readReply(value), { code: 'GAW_ERR_BAD_RESPONSE', message });
});

test('legacy requests become JSON-RPC requests: path to method, args positional, kwargs named', () => {
  assert.deepEqual(toJsonRpc(plus), {
    jsonrpc: '2.0',
    method: 'math_service.plus',
    params: [10, 20],
    id: String(PLUS_ID),
  });
  assert.deepEqual(toJsonRpc(multiply), {
    jsonrpc: '2.0',
    method: 'math_service.multiply',
    params: { a: 10, b: 20 },
    id: String(MULTIPLY_ID),
  });
  assert.deepEqual(toJsonRpc({ ...plus, args: [] }).params, []);
});

test('a call that JSON-RPC cannot express is refused with a Python exception name', () => {
  assert.throws(() => toJsonRpc({ ...plus, kwargs: { b: 2 } }), {
    pythonName: 'TypeError',
    message: /not both/,
    id: PLUS_ID,
  });
  assert.throws(() => toJsonRpc({ ...plus, path: 'no_slash' }), {
    pythonName: 'KeyError',
    message: 'path: no_slash not found',
  });
  assert.throws(() => toJsonRpc({ ...plus, path: 'svc/' }), { pythonName: 'KeyError' });
});

test('malformed request envelopes are refused, keeping the id when it was readable', () => {
  assert.throws(() => readRequest({ _t: 'Other', _v: {} }), { message: /RequestDataType/, id: undefined });
  assert.throws(() => readRequest({ _t: 'RequestDataType', _v: { id: true, path: 'a/b' } }), { message: /id/ });
  assert.throws(() => readRequest({ _t: 'RequestDataType', _v: { id: 7, path: 3 } }), { message: /path/, id: 7 });
  assert.throws(
    () => readRequest({ _t: 'RequestDataType', _v: { id: 7, path: 'a/b', payload: { args: { _t: 'tuple', _v: 1 } } } }),
    { message: /args/ },
  );
  assert.throws(() => readRequest({ _t: 'RequestDataType', _v: { id: 7, path: 'a/b', payload: { kwargs: [] } } }), {
    message: /kwargs/,
  });
});

test("dispatcher errors become Python exceptions: a service's own name, or one chosen by code", () => {
  const service = fromJsonRpc(
    {
      jsonrpc: '2.0',
      id: '1',
      error: {
        code: -32000,
        message: 'Server error',
        data: { name: 'ZeroDivisionError', message: 'division by zero' },
      },
    },
    plus,
    (v) => v,
  );
  assert.deepEqual(service, {
    kind: 'exception',
    respTo: PLUS_ID,
    name: 'ZeroDivisionError',
    message: 'division by zero',
    trace: '',
  });
  const params = fromJsonRpc(
    { jsonrpc: '2.0', id: '1', error: { code: -32602, message: 'Invalid params: missing b' } },
    plus,
    (v) => v,
  );
  assert.deepEqual(params, {
    kind: 'exception',
    respTo: PLUS_ID,
    name: 'TypeError',
    message: 'Invalid params: missing b',
    trace: '',
  });
  const failing = fromJsonRpc({ jsonrpc: '2.0', id: '1', result: 1 }, plus, () => {
    throw new Error('no tag for Widget');
  });
  assert.equal(failing.kind === 'exception' && failing.name, 'SerializeError');
  assert.equal(fromJsonRpc(undefined, plus, (v) => v).kind, 'exception');
});

test('ids compare by value across bigint and number forms', () => {
  assert.ok(isSameId(5n, 5));
  assert.ok(isSameId(PLUS_ID, PLUS_ID));
  assert.ok(!isSameId(PLUS_ID, PLUS_ID + 1n));
  assert.ok(!isSameId('5', 5));
});

test('the Python dialect maps bare big integers and NaN to our tags and back', () => {
  const encoded = {
    n: { _t: 'bigint', _v: '123456789012345678901' },
    x: [{ _t: 'number', _v: 'NaN' }, { _t: 'undefined' }],
    d: { _t: 'datetime', _v: '2024-01-01' },
  };
  const python = toPythonData(encoded) as Record<string, unknown>;
  assert.equal(python.n, 123456789012345678901n);
  assert.ok(Number.isNaN((python.x as unknown[])[0]));
  assert.equal((python.x as unknown[])[1], null);
  assert.equal(python.d, encoded.d);
  assert.equal(encoded.n._t, 'bigint', 'the input is not modified');
  assert.deepEqual(fromPythonData(parsePythonJson('[123456789012345678901, Infinity, 1]')), [
    { _t: 'bigint', _v: '123456789012345678901' },
    { _t: 'number', _v: 'Infinity' },
    1,
  ]);
});
