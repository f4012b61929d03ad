// The one interface under GawClient: however a call reaches a server (pooled GAWP/1 connections,
// Python Gaw 0.7's wire, one connection dialed for one call by the CLI), it is a Transport. A
// transport makes one try, bounded by a deadline and a signal, and settles with the reply's
// outcome; retries and the choice of what is safe to retry wrap any transport (retrying.ts).
import type { JsonRpcErrorObject, JsonRpcParams } from '../jsonrpc/index.js';
import type { Codec } from '../serializable/index.js';
import type { Endpoint } from './pool.js';
import type { StreamReceiver } from './stream-table.js';

/** A reply as received: the result (not yet revived) or the JSON-RPC error object. */
export type Outcome = { result: unknown } | { error: JsonRpcErrorObject };

export interface OutgoingCall {
  readonly method: string;
  readonly params: JsonRpcParams | undefined;
  /** Safe to run twice: retried after transport failures too, not only after refusals. */
  readonly isIdempotent?: boolean;
  /**
   * Encodes this request (and, for the caller, revives its result) instead of the transport's own
   * codec: the raw pass-through codec sends wire data as given (createRawJsonCodec).
   */
  readonly codec?: Codec;
  /** The ids that follow the call to the server (the call-context extension); the budget comes from the attempt. */
  readonly context?: OutgoingContext | undefined;
}

/** What a call carries to the server besides its message: request id and W3C trace context. */
export interface OutgoingContext {
  readonly requestId?: string | undefined;
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
}

export interface OutgoingBatchCall {
  readonly method: string;
  readonly params: JsonRpcParams | undefined;
  /** No reply, no outcome. */
  readonly isNotification: boolean;
}

/** What bounds one try. */
export interface Attempt {
  /** The performance.now() time by which the try settles; past it, it rejects with GAW_ERR_CALL_TIMEOUT. */
  readonly deadlineMs: number;
  /** The whole call's timeout (retries included), as the caller asked for it; for messages. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  /** Names the call in errors: the method, or `batch`. */
  readonly what: string;
}

/** What a transport can carry besides single calls; GawClient refuses the rest with a UsageError. */
export interface TransportFeatures {
  readonly notifications: boolean;
  readonly batches: boolean;
  /** Requests with their own codec (OutgoingCall.codec), for raw wire data. */
  readonly ownCodec: boolean;
}

export interface Transport {
  /** Encodes requests and revives results. */
  readonly codec: Codec;
  readonly features: TransportFeatures;
  /** Protocol name for messages: `gawp`, `gaw-legacy`. */
  readonly protocol: string;
  /**
   * One try. Rejects with the transport failure (ConnectionError, TimeoutError, AbortError...) or,
   * for a reply saying the server ran nothing (-32001, -32002), a RemoteError, so a retry policy can
   * tell them apart from a handler's error, which resolves as an outcome.
   */
  call(call: OutgoingCall, attempt: Attempt): Promise<Outcome>;
  /** One try of a batch: the outcomes of its non-notification calls, in order. */
  batch(calls: readonly OutgoingBatchCall[], attempt: Attempt, context?: OutgoingContext): Promise<Outcome[]>;
  /**
   * One try at opening a server stream with `window` items of credit (absent on a transport without
   * streams): settles at its first sign of life, undefined once an item went to `receiver`, or the
   * outcome of a stream that ended with none; rejects like call() when it failed before any item.
   */
  stream?(call: OutgoingCall, attempt: Attempt, window: number, receiver: StreamReceiver): Promise<Outcome | undefined>;
  /** Settles once the notification is handed to a connection. */
  notify(call: OutgoingCall, signal: AbortSignal | undefined): Promise<void>;
  /** Calls in flight. */
  readonly pendingCount: number;
  /** Open connections. */
  readonly connectionCount: number;
  /**
   * Replaces the endpoints (validated by the caller): new ones take calls, removed ones drain.
   * Absent on a transport with a fixed peer.
   */
  setEndpoints?(endpoints: readonly Endpoint[]): void;
  /** Graceful: no new calls; those in flight get their replies. Idempotent. */
  close(): Promise<void>;
  /** Now: every connection closed, calls in flight fail. */
  destroy(): void;
}
