// What follows a call to the server besides its params: the request id and trace context,
// inherited from the call being handled (a child traceparent) or given per call, as the
// call-context extension and the HTTP headers carry them.
import { childTraceparent } from '../context.js';
import type { CallContext } from '../context.js';
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
