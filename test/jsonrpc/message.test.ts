// The JSON-RPC 2.0 message model: builders, request validation, response validation, repairs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError, SerializationError } from '../../src/errors.js';
import {
  errorResponse,
  isNotification,
  notificationMessage,
  parseErrorResponse,
  parseResponse,
  quote,
  readId,
  repairReply,
  requestMessage,
  requestProblem,
  rpcErrorCodes,
  successResponse,
} from '../../src/jsonrpc/index.js';

test('builders produce the exact member order the spec examples use', () => {
  assert.equal(JSON.stringify(successResponse(1, 'hello world')), '{"jsonrpc":"2.0","id":1,"result":"hello world"}');
  assert.equal(
    JSON.stringify(errorResponse('a', -32601, 'Method not found')),
    '{"jsonrpc":"2.0","id":"a","error":{"code":-32601,"message":"Method not found"}}',
  );
  assert.equal(
    JSON.stringify(errorResponse(null, 1, 'x', { y: 2 })),
    '{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"x","data":{"y":2}}}',
  );
  assert.deepEqual(requestMessage(7, 'svc.m', [1]), { jsonrpc: '2.0', method: 'svc.m', params: [1], id: 7 });
  assert.deepEqual(requestMessage(7, 'svc.m'), { jsonrpc: '2.0', method: 'svc.m', id: 7 });
  assert.deepEqual(notificationMessage('svc.m', { a: 1 }), { jsonrpc: '2.0', method: 'svc.m', params: { a: 1 } });
  assert.equal(Object.hasOwn(notificationMessage('svc.m'), 'params'), false);
});

test('an undefined result is sent as null so the response still has a result member', () => {
  assert.equal(JSON.stringify(successResponse(3, undefined)), '{"jsonrpc":"2.0","id":3,"result":null}');
});

test('the error codes are the spec values and the server range', () => {
  assert.deepEqual(rpcErrorCodes, {
    PARSE_ERROR: -32700,
    INVALID_REQUEST: -32600,
    METHOD_NOT_FOUND: -32601,
    INVALID_PARAMS: -32602,
    INTERNAL_ERROR: -32603,
    SERVER_ERROR: -32000,
    SHUTTING_DOWN: -32001,
    OVERLOADED: -32002,
    HANDLER_TIMEOUT: -32003,
    DEADLINE_EXCEEDED: -32004,
    UNAVAILABLE: -32005,
    CANCELLED: -32006,
    STREAM_MISMATCH: -32020,
  });
});

test('requestProblem accepts valid requests and notifications', () => {
  for (const message of [
    { jsonrpc: '2.0', method: 'a', id: 1 },
    { jsonrpc: '2.0', method: 'a', id: 'x' },
    { jsonrpc: '2.0', method: 'a', id: null },
    { jsonrpc: '2.0', method: 'a', params: [], id: 1.5 },
    { jsonrpc: '2.0', method: 'a', params: {} },
    Object.assign(Object.create(null), { jsonrpc: '2.0', method: 'a' }),
  ]) {
    assert.equal(requestProblem(message), undefined, JSON.stringify(message));
  }
});

test('only a request-shaped object without an id is a notification, so only it goes unanswered', () => {
  assert.equal(isNotification({ jsonrpc: '2.0', method: 'a' }), true);
  assert.equal(isNotification({ jsonrpc: '2.0', method: 'a', id: undefined, params: [] }), true);
  for (const message of [
    { jsonrpc: '2.0', method: 'a', id: null },
    { jsonrpc: '2.0', method: 'a', id: 0 },
    { jsonrpc: '2.0' },
    { method: 7 },
    [],
    [{ method: 'a' }],
    null,
    'a',
  ]) {
    assert.equal(isNotification(message), false, JSON.stringify(message));
  }
});

test('requestProblem names what is wrong with an invalid request', () => {
  const cases: [unknown, RegExp][] = [
    [1, /must be an object/],
    [null, /must be an object/],
    ['x', /must be an object/],
    [[{ jsonrpc: '2.0', method: 'a' }], /batch may not contain another batch/],
    [{ method: 'a', id: 1 }, /jsonrpc member must be exactly "2.0"/],
    [{ jsonrpc: 2.0, method: 'a', id: 1 }, /jsonrpc/],
    [{ jsonrpc: '1.0', method: 'a', id: 1 }, /jsonrpc/],
    [{ jsonrpc: '2.0', method: 1, params: 'bar' }, /method member must be a string/],
    [{ jsonrpc: '2.0', id: 1 }, /method member must be a string/],
    [{ jsonrpc: '2.0', method: 'a', params: 'bar', id: 1 }, /params must be an array or an object/],
    [{ jsonrpc: '2.0', method: 'a', params: null, id: 1 }, /params must be an array or an object/],
    [{ jsonrpc: '2.0', method: 'a', params: new Uint8Array(2), id: 1 }, /params must be an array or an object/],
    [{ jsonrpc: '2.0', method: 'a', id: {} }, /id must be a string, a number or null/],
    [{ jsonrpc: '2.0', method: 'a', id: [1] }, /id must be/],
    [{ jsonrpc: '2.0', method: 'a', id: true }, /id must be/],
    [{ jsonrpc: '2.0', method: 'a', id: Number.NaN }, /id must be/],
  ];
  for (const [message, reason] of cases)
    assert.match(requestProblem(message) ?? '(valid)', reason, JSON.stringify(message));
});

test('readId returns a readable id and null for anything else', () => {
  assert.equal(readId({ id: 5 }), 5);
  assert.equal(readId({ id: 'q' }), 'q');
  assert.equal(readId({ id: {} }), null);
  assert.equal(readId({ id: true }), null);
  assert.equal(readId([{ id: 1 }]), null);
  assert.equal(readId('x'), null);
});

test('parseResponse returns the id with the result or the error', () => {
  assert.deepEqual(parseResponse({ jsonrpc: '2.0', id: 1, result: 19 }), { id: 1, result: 19 });
  assert.deepEqual(parseResponse({ jsonrpc: '2.0', id: 'a', result: null }), { id: 'a', result: null });
  assert.deepEqual(parseResponse({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request' } }), {
    id: null,
    error: { code: -32600, message: 'Invalid Request' },
  });
  const parsed = parseResponse({ jsonrpc: '2.0', id: 2, error: { code: 5, message: 'm', data: { name: 'E' } } });
  assert.deepEqual(parsed, { id: 2, error: { code: 5, message: 'm', data: { name: 'E' } } });
});

test('parseResponse throws GAW_ERR_BAD_RESPONSE naming the problem', () => {
  const cases: [unknown, RegExp][] = [
    [null, /not an object/],
    [[], /array/],
    [{ jsonrpc: '1.0', id: 1, result: 1 }, /jsonrpc/],
    [{ jsonrpc: '2.0', result: 1 }, /id member is missing/],
    [{ jsonrpc: '2.0', id: {}, result: 1 }, /id is not/],
    [{ jsonrpc: '2.0', id: 1 }, /neither result nor error/],
    [{ jsonrpc: '2.0', id: 1, result: 1, error: { code: 1, message: 'x' } }, /both result and error/],
    [{ jsonrpc: '2.0', id: 1, error: 'boom' }, /error member is not an object/],
    [{ jsonrpc: '2.0', id: 1, error: { code: 1.5, message: 'x' } }, /error.code is not an integer/],
    [{ jsonrpc: '2.0', id: 1, error: { code: 1 } }, /error.message is not a string/],
  ];
  for (const [data, reason] of cases) {
    assert.throws(
      () => parseResponse(data),
      (err: unknown) => {
        assert.ok(err instanceof ProtocolError);
        assert.equal(err.code, 'GAW_ERR_BAD_RESPONSE');
        assert.match(err.message, reason);
        return true;
      },
      JSON.stringify(data),
    );
  }
});

test('parseErrorResponse is -32700 with id null and never echoes the input at length', () => {
  const plain = parseErrorResponse(new Error('x'));
  assert.deepEqual(plain, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
  const depth = parseErrorResponse(new SerializationError('GAW_ERR_DEPTH_EXCEEDED', 'too deep'));
  assert.match(depth.error.message, /^Parse error: the message nests deeper/);
  const long = parseErrorResponse(new SerializationError('GAW_ERR_DECODE', `bad JSON ${'x'.repeat(5000)}\nline2`));
  assert.match(long.error.message, /^Parse error: "bad JSON x+"…$/);
  assert.ok(long.error.message.length < 200);
  assert.ok(!long.error.message.includes('\n'));
});

test('quote JSON-escapes and cuts untrusted text', () => {
  assert.equal(quote('a\nb'), '"a\\nb"');
  assert.equal(quote('x'.repeat(100), 10), `"${'x'.repeat(10)}"…`);
  assert.equal(quote('ok'), '"ok"');
});

test('repairReply replaces only the responses that cannot be encoded', () => {
  const encode = (value: unknown): string => {
    const text = JSON.stringify(value, (_k, v: unknown) => {
      if (typeof v === 'bigint') throw new TypeError('a BigInt at result cannot be encoded');
      return v;
    });
    return text;
  };
  const good = successResponse(1, 'fine');
  const bad = successResponse(2, 10n);
  const repaired = repairReply([good, bad], encode) as unknown[];
  assert.equal(repaired[0], good);
  const second = repaired[1] as { id: unknown; error: { code: number; message: string } };
  assert.equal(second.id, 2);
  assert.equal(second.error.code, -32603);
  assert.match(second.error.message, /^Internal error: the result could not be encoded: "a BigInt/);
  const single = repairReply(bad, encode) as { error: { code: number } };
  assert.equal(single.error.code, -32603);
  assert.equal(repairReply(good, encode), good);
});
