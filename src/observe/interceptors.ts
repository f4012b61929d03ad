// Interceptors: ordered functions around each call, on the server (around each handled request)
// and on the client (around each call, retries included). Each gets the call and a `next` that
// runs the rest of the chain; it may time or log it, reject it (throw a ServiceError), change
// `params` before `next()`, or return another result. The first registered is the outermost.
// Runs no handler and sends nothing itself: dispatch.ts and client.ts give the chain its end.
import { UsageError } from '../errors.js';
import type { CallContext } from '../context.js';

/** A request the server is about to run (valid JSON-RPC; the method may be unknown). */
export interface ServerCall {
  /** The service's name; `_OTHER` when no hosted method has this name. */
  readonly service: string;
  /** The method's name within its service (`plus`); `_OTHER` when unknown. */
  readonly method: string;
  /** What the caller asked for, as sent (`math_service.plus`, or a bare name). */
  readonly requested: string;
  /** The params as sent (wire data: an array, an object or undefined); an interceptor may replace them. */
  params: unknown;
  /** The JSON-RPC id; undefined for a notification. */
  readonly id: string | number | null | undefined;
  readonly isNotification: boolean;
  /** The call's context: deadline, signal, request id, trace context, peer. */
  readonly context: CallContext;
  /** `host:port` of the caller. */
  readonly peer: string;
  /** performance.now() when the request was read (for timing it); 0 when its transport does not say. */
  readonly receivedAtMs: number;
}

/** Returns what `next()` returned (a value or a promise of one), or another result; throws to reject. */
export type ServerInterceptor = (call: ServerCall, next: () => unknown) => unknown;

/** A call the client is about to make. */
export interface ClientCall {
  readonly service: string;
  readonly method: string;
  /** `service.method` as the caller gave it. */
  readonly requested: string;
  /** The params to send; an interceptor may replace them. */
  params: unknown;
  /**
   * What follows the call to the server besides its message: an interceptor may set the request
   * id or the W3C trace context (tracing does).
   */
  readonly outgoing: {
    requestId?: string | undefined;
    traceparent?: string | undefined;
    tracestate?: string | undefined;
  };
  /** The call context of the call being handled when this call was made (inside a handler), if any. */
  readonly parent: CallContext | undefined;
  /** The endpoints the client calls, for labels and logs (`127.0.0.1:5555`, or a list). */
  readonly peer: string;
  /** performance.now() when the call was made (its timeout counts from then). */
  readonly startMs: number;
}

/** Resolves to the (revived) result or another one; rejects to fail the call. */
export type ClientInterceptor = (call: ClientCall, next: () => Promise<unknown>) => Promise<unknown>;

/** Checks an interceptor list given as an option; undefined when empty, so no call pays for it. */
export function checkInterceptors<T extends Function>(list: unknown, where: string): readonly T[] | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list))
    throw new UsageError('GAW_ERR_INVALID_OPTION', `${where} must be an array of functions (call, next) => result`);
  list.forEach((fn, i) => {
    if (typeof fn !== 'function')
      throw new UsageError(
        'GAW_ERR_INVALID_OPTION',
        `${where}[${i}] is a ${typeof fn}, not a function (call, next) => result`,
      );
  });
  return list.length === 0 ? undefined : Object.freeze([...list] as T[]);
}

/** Joins interceptor lists in order (the built-in ones first); undefined when all are empty. */
export function joinInterceptors<T>(...lists: (readonly T[] | undefined)[]): readonly T[] | undefined {
  const all = lists.flatMap((list) => list ?? []);
  return all.length === 0 ? undefined : Object.freeze(all);
}

/**
 * Runs `chain` around `last` for `call`: one closure per call, whatever the chain's length. An
 * interceptor that calls `next()` twice runs the rest of the chain twice (a retry of its own).
 */
export function runChain<C, R>(chain: readonly ((call: C, next: () => R) => R)[], call: C, last: (call: C) => R): R {
  if (chain.length === 1) return chain[0]!(call, () => last(call));
  const step = (index: number): R => {
    if (index === chain.length) return last(call);
    return chain[index]!(call, () => step(index + 1));
  };
  return step(0);
}

/** `service.method` split for labels: the service before the last dot, the method after it. */
export function splitMethod(name: string): { service: string; method: string } {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? { service: '', method: name } : { service: name.slice(0, dot), method: name.slice(dot + 1) };
}
