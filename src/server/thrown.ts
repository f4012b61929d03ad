// Turns whatever a handler threw (an Error, a string, undefined, any object) into the `{ name,
// message }` pair sent to callers as a server error's data, without ever throwing itself; and a
// failure of a call the handler made to another service into the code that tells the caller so.
// Decides nothing about logging; dispatch.ts does.
import { AbortError, ConnectionError, ProtocolError, RemoteError, TimeoutError } from '../errors.js';
import type { GawError } from '../errors.js';
import { rpcErrorCodes } from '../jsonrpc/index.js';

/** The most characters of a thrown value's name or message that are sent to a caller. */
export const maxThrownMessageChars = 10_000;
const maxNameChars = 200;

export interface ThrownDescription {
  name: string;
  message: string;
  stack?: string;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** A safe description of a thrown value. Getters that throw and odd values are handled. */
export function describeThrown(thrown: unknown): ThrownDescription {
  try {
    if (thrown instanceof Error) {
      const name = typeof thrown.name === 'string' && thrown.name !== '' ? cut(thrown.name, maxNameChars) : 'Error';
      const message = typeof thrown.message === 'string' ? cut(thrown.message, maxThrownMessageChars) : '';
      const stack = typeof thrown.stack === 'string' ? thrown.stack : undefined;
      return stack === undefined ? { name, message } : { name, message, stack };
    }
    switch (typeof thrown) {
      case 'string':
        return { name: 'string', message: cut(thrown, maxThrownMessageChars) };
      case 'undefined':
        return { name: 'undefined', message: 'the handler threw undefined' };
      case 'number':
      case 'boolean':
      case 'bigint':
        return { name: typeof thrown, message: `the handler threw ${typeof thrown} ${String(thrown)}` };
      case 'symbol':
        return { name: 'symbol', message: 'the handler threw a symbol' };
      case 'function':
        return { name: 'function', message: 'the handler threw a function' };
      default:
        break;
    }
    if (thrown === null) return { name: 'null', message: 'the handler threw null' };
    // An error-like object: another realm's Error, or a plain { name, message }.
    const like = thrown as { name?: unknown; message?: unknown };
    if (typeof like.message === 'string') {
      const name = typeof like.name === 'string' && like.name !== '' ? cut(like.name, maxNameChars) : 'object';
      return { name, message: cut(like.message, maxThrownMessageChars) };
    }
    return { name: 'object', message: 'the handler threw an object that is not an Error' };
  } catch {
    return { name: 'unknown', message: 'the handler threw a value that could not be described' };
  }
}

/** The reply for a failure a handler let escape from a call it made to another service. */
export interface PassedFailure {
  code: number;
  message: string;
  data?: unknown;
  /** For the call's log line. */
  outcome: string;
}

const unavailable = (what: string): PassedFailure => ({
  code: rpcErrorCodes.UNAVAILABLE,
  message: `Service unavailable: a service this method called ${what}`,
  outcome: 'downstream unavailable',
});

/**
 * What to answer when a handler lets a downstream failure escape: a RemoteError keeps its code,
 * message and data (unless `passRemoteErrors` is off), a downstream timeout and an unreachable
 * downstream get their own codes, and the handled call's own cancellation or deadline says so. A
 * downstream refusal (-32001, -32002) becomes "unavailable": this method did run, so a caller must
 * not take it for a refusal it may retry. No address or connection detail is sent; the server log
 * has them. Undefined for anything else.
 */
export function passThrough(
  err: unknown,
  passRemoteErrors: boolean,
  call: { abortReason: GawError | undefined } | undefined,
): PassedFailure | undefined {
  if (err instanceof RemoteError) {
    if (err.rpcCode === rpcErrorCodes.SHUTTING_DOWN || err.rpcCode === rpcErrorCodes.OVERLOADED)
      return unavailable('refused the call');
    if (!passRemoteErrors) return undefined;
    return { code: err.rpcCode, message: err.message, data: err.data, outcome: 'downstream error' };
  }
  if (err instanceof AbortError && call?.abortReason !== undefined) {
    return call.abortReason instanceof TimeoutError
      ? {
          code: rpcErrorCodes.DEADLINE_EXCEEDED,
          message: "Deadline exceeded: the caller's deadline passed",
          outcome: 'deadline passed',
        }
      : { code: rpcErrorCodes.CANCELLED, message: 'Cancelled: the caller cancelled the request', outcome: 'cancelled' };
  }
  if (err instanceof TimeoutError) {
    if (err.code === 'GAW_ERR_CONNECT_TIMEOUT' || err.code === 'GAW_ERR_HANDSHAKE_TIMEOUT')
      return unavailable('could not be reached in time');
    return {
      code: rpcErrorCodes.DEADLINE_EXCEEDED,
      message: 'Deadline exceeded: a call this method made got no reply in time',
      outcome: 'downstream timeout',
    };
  }
  if (err instanceof ConnectionError || err instanceof ProtocolError) return unavailable('could not be reached');
  return undefined;
}
