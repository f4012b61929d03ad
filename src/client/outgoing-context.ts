// What follows a call to the server besides its params: the request id and trace context,
// inherited from the call being handled (a child traceparent) or given per call, as the
// call-context extension and the HTTP headers carry them.
import { childTraceparent } from '../context.js';
import type { CallContext } from '../context.js';
import { splitMethod } from '../observe/index.js';
import type { ClientCall } from '../observe/index.js';
import type { CallOptions } from './options.js';
import type { OutgoingContext } from './transport.js';

/** What follows the call to the server: the handled call's request id (or the caller's own) and trace context. */
export function outgoingContext(parent: CallContext | undefined, options: CallOptions): OutgoingContext | undefined {
  const { requestId, traceparent, tracestate } = options;
  if (parent === undefined) {
    if (requestId === undefined && traceparent === undefined) return undefined;
    return { requestId, traceparent, tracestate };
  }
  if (traceparent !== undefined) return { requestId: requestId ?? parent.requestId, traceparent, tracestate };
  return {
    requestId: requestId ?? parent.requestId,
    traceparent: parent.traceparent === undefined ? undefined : childTraceparent(parent.traceparent),
    tracestate: parent.tracestate,
  };
}

/** The context to send, or undefined when an interceptor left it empty. */
export function presentContext(context: OutgoingContext): OutgoingContext | undefined {
  const { requestId, traceparent, tracestate } = context;
  return requestId === undefined && traceparent === undefined && tracestate === undefined ? undefined : context;
}

/**
 * What client interceptors see of a call. A plain literal of one shape: object spreads here cost
 * more than the rest of the interceptor path together (V8 clones them on a slow path).
 */
export function clientCall(
  requested: string,
  params: unknown,
  context: OutgoingContext | undefined,
  parent: CallContext | undefined,
  peer: string,
  startMs: number,
): ClientCall {
  const { service, method } = splitMethod(requested);
  const outgoing =
    context === undefined
      ? { requestId: undefined, traceparent: undefined, tracestate: undefined }
      : { requestId: context.requestId, traceparent: context.traceparent, tracestate: context.tracestate };
  return { service, method, requested, params, outgoing, parent, peer, startMs };
}
