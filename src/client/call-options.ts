// One call's option bag (CallOptions) and a batch's calls, checked key by key, so a misspelt call
// option is an error naming the nearest one. The client's own options are in options.ts.
import { UsageError } from '../errors.js';
import type { JsonRpcParams } from '../jsonrpc/index.js';
import { checkOptionKeys } from '../options.js';
import { checkInteger, isRequestId, isTraceparent, isTracestate } from '../postoffice/index.js';

export interface CallOptions {
  /** At most this long, retries included; inside a handler, never past the handler's own deadline. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Overrides the client's `idempotent` list for this call. */
  isIdempotent?: boolean;
  /**
   * Inside a handler, start afresh: no inherited deadline, cancellation, request id or trace
   * context (for work that must outlive the call, e.g. a write-behind).
   */
  isRoot?: boolean;
  /** The request id to send (default: the handled call's, or none). Up to 64 visible ASCII characters. */
  requestId?: string;
  /** The W3C trace context to send (default: a child of the handled call's, or none). */
  traceparent?: string;
  tracestate?: string;
  /** A stream's window: items the server may send ahead of the consumer (default 32, at most 65,536). */
  streamWindow?: number;
}

export interface BatchCall {
  method: string;
  params?: JsonRpcParams;
  /** Send as a notification: no reply, no entry in the results. */
  isNotification?: boolean;
}

const callOptionKeys: ReadonlySet<string> = new Set([
  'timeoutMs',
  'signal',
  'isIdempotent',
  'isRoot',
  'requestId',
  'traceparent',
  'streamWindow',
  'tracestate',
]);

export function checkCallOptions(options: CallOptions): void {
  checkOptionKeys(options, callOptionKeys, 'call options');
  if (options.requestId !== undefined && !isRequestId(options.requestId))
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'requestId must be 1 to 64 visible ASCII characters');
  if (options.traceparent !== undefined && !isTraceparent(options.traceparent))
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'traceparent must be a W3C trace context version 00 header value');
  if (options.tracestate !== undefined && !isTracestate(options.tracestate))
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'tracestate must be 1 to 255 printable ASCII characters');
  if (options.streamWindow !== undefined) checkInteger('streamWindow', options.streamWindow, 1, 65_536);
}
