// The call context of an HTTP request to the bridge: the same budget, request id and W3C trace
// context a GAWP/1 client sends in the call-context extension, read from headers, so a call made
// over curl or a browser has a deadline, is cancelled when the client hangs up, and keeps its ids:
//   traceparent, tracestate   W3C Trace Context (a malformed value is ignored, as W3C asks)
//   Gaw-Timeout-Ms            the caller's remaining budget, integer milliseconds from 0 to 2^32 - 1
//   X-Request-Id              1-64 visible ASCII characters; echoed on the response
import type { IncomingMessage } from 'node:http';
import { isRequestId, isTraceparent, isTracestate } from '../postoffice/index.js';
import type { WireContext } from '../postoffice/index.js';
import { InboundCalls } from './inbound-call.js';
import type { CallOrigin } from './inbound-call.js';

export const contextHeaders = Object.freeze({
  timeout: 'gaw-timeout-ms',
  requestId: 'x-request-id',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
});

const TIMEOUT = /^\d{1,10}$/;

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}

/** The request's origin and context; a string says what is wrong with a header (answered 400). */
export function httpOrigin(req: IncomingMessage): CallOrigin | string {
  const headers = req.headers;
  const peer = `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? 0}`;
  const timeout = one(headers[contextHeaders.timeout]);
  const requestId = one(headers[contextHeaders.requestId]);
  const traceparent = one(headers[contextHeaders.traceparent]);
  const tracestate = one(headers[contextHeaders.tracestate]);
  let wire: WireContext | undefined;
  if (timeout !== undefined) {
    const budgetMs = TIMEOUT.test(timeout.trim()) ? Number(timeout.trim()) : Number.NaN;
    if (!(budgetMs <= 0xffff_ffff)) return 'Gaw-Timeout-Ms must be an integer number of milliseconds (0 to 4294967295)';
    wire = { budgetMs };
  }
  if (requestId !== undefined && isRequestId(requestId)) {
    wire ??= {};
    wire.requestId = requestId;
  }
  if (traceparent !== undefined && isTraceparent(traceparent)) {
    wire ??= {};
    wire.traceparent = traceparent;
    if (tracestate !== undefined && isTracestate(tracestate)) wire.tracestate = tracestate;
  }
  return { peer, wire, receivedAt: performance.now(), calls: new InboundCalls() };
}
