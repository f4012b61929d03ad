// What a call's outcome means to the caller: refusals that ran nothing (retried like failures),
// errors made again with the caller's stack, an error reply as the caller's error, params checks,
// and the abortable wait between retries. Helpers for client.ts: no sockets and no pool.
import { AbortError, ConnectionError, RemoteError, TimeoutError, UsageError } from '../errors.js';
import type { GawError } from '../errors.js';
import { rpcErrorCodes } from '../jsonrpc/index.js';
import type { JsonRpcErrorObject, JsonRpcParams } from '../jsonrpc/index.js';
import { watchAbort } from './abort-watch.js';
import type { Outcome } from './transport.js';

/** True for a reply saying the server did not run the request (-32001 shutting down, -32002 overloaded). */
export function isRefusal(outcome: Outcome): boolean {
  return (
    'error' in outcome &&
    (outcome.error.code === rpcErrorCodes.SHUTTING_DOWN || outcome.error.code === rpcErrorCodes.OVERLOADED)
  );
}

/**
 * The error made again here, after the call's await, so its stack shows the caller's own async
 * frames rather than a timer's or a socket's (the original is the cause). A connection failure is
 * one object shared by every call on that connection, so each caller gets its own copy.
 */
export function withCallerStack(err: unknown): unknown {
  if (err instanceof RemoteError) return new RemoteError(err.rpcCode, err.message, err.data);
  if (err instanceof ConnectionError) {
    return new ConnectionError(err.code, err.message, { cause: err, mayHaveReachedServer: err.mayHaveReachedServer });
  }
  if (err instanceof TimeoutError) return new TimeoutError(err.code, err.message, { cause: err });
  if (err instanceof AbortError) return new AbortError(err.message, { cause: err.cause ?? err });
  return err;
}

/** The RemoteError a refusal (-32001/-32002) is rejected with, so the retry policy sees it; else undefined. */
export function refusalError(outcome: Outcome): RemoteError | undefined {
  if (!('error' in outcome) || !isRefusal(outcome)) return undefined;
  return new RemoteError(outcome.error.code, outcome.error.message, outcome.error.data);
}

/** Turns a refusal into a rejection with a RemoteError, so the retry policy can see it and retry. */
export function refusalsRejected<S extends { outcome: Promise<Outcome> }>(sent: S): S {
  return {
    ...sent,
    outcome: sent.outcome.then((outcome) => {
      const refused = refusalError(outcome);
      if (refused !== undefined) throw refused;
      return outcome;
    }),
  };
}

/** A batch refused whole (every request -32001/-32002) ran nothing: rejected so it may be retried. */
export function rejectWholeRefusal(all: Outcome[]): Outcome[] {
  const first = all[0];
  if (first !== undefined && 'error' in first && all.every(isRefusal))
    throw new RemoteError(first.error.code, first.error.message, first.error.data);
  return all;
}

export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => new AbortError('the call was aborted', { cause: signal?.reason });
    if (signal?.aborted) {
      reject(aborted());
      return;
    }
    const timer = setTimeout(() => {
      unwatch?.();
      resolve();
    }, ms);
    const unwatch =
      signal &&
      watchAbort(signal, () => {
        clearTimeout(timer);
        reject(aborted());
      });
  });
}

export function checkParams(params: unknown): JsonRpcParams | undefined {
  if (params === undefined || Array.isArray(params) || (typeof params === 'object' && params !== null))
    return params as JsonRpcParams | undefined;
  throw new UsageError('GAW_ERR_INVALID_OPTION', 'params must be an array (positional) or an object (named)');
}

export function callerDeadlinePassed(what: string): TimeoutError {
  return new TimeoutError('GAW_ERR_CALL_TIMEOUT', `${what} was not sent: the handled call's deadline has passed`);
}

/**
 * The error for an error reply. A deadline that passed anywhere on the way (the server did not
 * start the call, or a call it made ran out of time) is a timeout to the caller, as a local one is;
 * the reply is its cause.
 */
export function replyError(method: string, error: JsonRpcErrorObject): GawError {
  const remote = new RemoteError(error.code, error.message, error.data);
  if (error.code !== rpcErrorCodes.DEADLINE_EXCEEDED) return remote;
  return new TimeoutError('GAW_ERR_CALL_TIMEOUT', `${method} ran out of time: ${error.message}`, { cause: remote });
}
