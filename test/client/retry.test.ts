// The retry policy (src/client/retry.ts) as a table: which failures are retried for a plain call
// and for an idempotent one, how the retries count is read, and the backoff's bounds. Pure: no
// sockets, no timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelayMs, neverReachedHandler, shouldRetry } from '../../src/client/index.js';
import { ConnectionError, RemoteError, TimeoutError } from '../../src/errors.js';
import { HandshakeRejectedError } from '../../src/postoffice/index.js';
import { rpcErrorCodes } from '../../src/jsonrpc/index.js';

const failures: { name: string; err: unknown; isPlainRetried: boolean; isIdempotentRetried: boolean }[] = [
  {
    name: 'connection refused',
    err: new ConnectionError('GAW_ERR_CONN_REFUSED', 'refused', { mayHaveReachedServer: false }),
    isPlainRetried: true,
    isIdempotentRetried: true,
  },
  {
    name: 'connection closed with the call in flight',
    err: new ConnectionError('GAW_ERR_CONN_CLOSED', 'closed'),
    isPlainRetried: false,
    isIdempotentRetried: true,
  },
  {
    name: 'handshake refused as busy',
    err: new HandshakeRejectedError('busy', 'busy'),
    isPlainRetried: true,
    isIdempotentRetried: true,
  },
  {
    name: 'handshake refused for its suite',
    err: new HandshakeRejectedError('suite', 'suite'),
    isPlainRetried: false,
    isIdempotentRetried: false,
  },
  {
    name: 'connect timeout',
    err: new TimeoutError('GAW_ERR_CONNECT_TIMEOUT', 'slow'),
    isPlainRetried: true,
    isIdempotentRetried: true,
  },
  {
    name: 'call timeout',
    err: new TimeoutError('GAW_ERR_CALL_TIMEOUT', 'slow'),
    isPlainRetried: false,
    isIdempotentRetried: false,
  },
  {
    name: 'server shutting down',
    err: new RemoteError(rpcErrorCodes.SHUTTING_DOWN, 'bye'),
    isPlainRetried: true,
    isIdempotentRetried: true,
  },
  {
    name: 'server overloaded',
    err: new RemoteError(rpcErrorCodes.OVERLOADED, 'busy'),
    isPlainRetried: true,
    isIdempotentRetried: true,
  },
  { name: 'a handler error', err: new RemoteError(4000, 'no'), isPlainRetried: false, isIdempotentRetried: false },
  { name: 'a plain Error', err: new Error('?'), isPlainRetried: false, isIdempotentRetried: false },
];

test('a plain call is retried only when it never reached a handler; an idempotent one after any transport failure', () => {
  for (const { name, err, isPlainRetried, isIdempotentRetried } of failures) {
    assert.equal(neverReachedHandler(err), isPlainRetried, name);
    assert.equal(shouldRetry(err, 0, 3, false), isPlainRetried, `${name}, plain`);
    assert.equal(shouldRetry(err, 0, 3, true), isIdempotentRetried, `${name}, idempotent`);
  }
});

test('retries counts the tries after the first: 0 never, N at most N, -1 forever', () => {
  const refused = failures[0]!.err;
  assert.equal(shouldRetry(refused, 0, 0, true), false);
  assert.equal(shouldRetry(refused, 2, 3, false), true);
  assert.equal(shouldRetry(refused, 3, 3, false), false);
  assert.equal(shouldRetry(refused, 1_000_000, -1, false), true);
});

test('the backoff is a random wait between 0 and min(max, base * 2^attempt)', () => {
  const options = { baseDelayMs: 50, maxDelayMs: 2_000 };
  const almostOne = () => 1 - Number.EPSILON;
  assert.equal(
    backoffDelayMs(0, options, () => 0),
    0,
  );
  assert.equal(backoffDelayMs(0, options, almostOne), 49);
  assert.equal(backoffDelayMs(3, options, almostOne), 399);
  assert.equal(backoffDelayMs(10, options, almostOne), 1_999);
  assert.equal(backoffDelayMs(1_000, options, almostOne), 1_999, 'a huge attempt number stays capped');
});
