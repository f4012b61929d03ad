// The retry policy as pure functions: which failures are safe to retry, and how long to wait.
// A call is retried only when it provably never reached a handler, or when its method is
// declared idempotent. Nothing here touches a socket or a timer.
import { ConnectionError, GawError, RemoteError, TimeoutError } from '../errors.js';
import { HandshakeRejectedError } from '../postoffice/index.js';
import { rpcErrorCodes } from '../jsonrpc/index.js';

export interface BackoffOptions {
  /** The first retry waits up to this (default 50 ms). */
  baseDelayMs: number;
  /** No wait is longer than this (default 2 s). */
  maxDelayMs: number;
}

export const backoffDefaults: Readonly<BackoffOptions> = Object.freeze({ baseDelayMs: 50, maxDelayMs: 2_000 });

/** Capped exponential backoff with full jitter: a random wait in [0, min(max, base * 2^attempt)]. */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions = backoffDefaults,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** True when the request cannot have run: it was refused before any handler saw it. */
export function neverReachedHandler(err: unknown): boolean {
  if (err instanceof ConnectionError) return !err.mayHaveReachedServer;
  if (err instanceof HandshakeRejectedError) return err.reason === 'busy';
  if (err instanceof TimeoutError)
    return err.code === 'GAW_ERR_CONNECT_TIMEOUT' || err.code === 'GAW_ERR_HANDSHAKE_TIMEOUT';
  if (err instanceof RemoteError)
    return err.rpcCode === rpcErrorCodes.SHUTTING_DOWN || err.rpcCode === rpcErrorCodes.OVERLOADED;
  return false;
}

/** True for transport failures after which an idempotent call may run again. */
export function isTransportFailure(err: unknown): boolean {
  if (neverReachedHandler(err)) return true;
  return (
    err instanceof GawError &&
    (err.code === 'GAW_ERR_CONN_CLOSED' || err.code === 'GAW_ERR_IDLE_TIMEOUT' || err.code === 'GAW_ERR_BACKPRESSURE')
  );
}

/**
 * Whether to try again after `err` on attempt `attempt` (0 = the first try failed).
 * `retries`: -1 forever, 0 never, N at most N more tries (Python Gaw's meaning).
 */
export function shouldRetry(err: unknown, attempt: number, retries: number, isIdempotent: boolean): boolean {
  if (retries >= 0 && attempt >= retries) return false;
  return isIdempotent ? isTransportFailure(err) : neverReachedHandler(err);
}
