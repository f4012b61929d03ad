// GAWP/1's call-context extension (handshake flag bit 1, CTX): what a request carries besides its
// JSON-RPC message (the caller's remaining time budget, a request id, the W3C trace context) and a
// cancel for a request in flight. With CTX negotiated every message of a DATA payload starts with
// a kind byte; without it nothing changes. The JSON-RPC messages themselves stay strict 2.0.
//
//   entry   = kind(u8) ‖ body                      (the entry is one "message" of the DATA payload)
//   kind 0  MESSAGE : message bytes                 (either direction)
//   kind 1  CALL    : ctx_len(u16) ‖ ctx ‖ message  (client to server only)
//   kind 2  CANCEL  : id                            (client to server only; the request's JSON-RPC id
//                                                    as JSON text, exactly as JSON.stringify writes it)
//   ctx     = field*, field = type(u8) ‖ len(u8) ‖ value
//     1 budget_ms   len 4, u32: milliseconds the caller will still wait (relative, never a clock)
//     2 request_id  len 1-64, bytes 0x21-0x7E
//     3 traceparent len 55, W3C trace context version 00
//     4 tracestate  len 1-255, bytes 0x20-0x7E
//     5 stream_window len 4, u32 (the stream extension, stream-entries.ts; ignored without it)
//   Unknown field types are skipped (room to grow); a known type twice, a field or ctx running past
//   its end, ctx_len over 1024, or an empty message is fatal. A request id or trace field whose
//   value is malformed is ignored, as W3C asks of a bad traceparent.
import { ProtocolError } from '../errors.js';
import { STREAM_WINDOW_FIELD } from './stream-entries.js';

/** ClientHello / ServerHello flags bit 1: both peers speak the call-context extension. */
export const FLAG_CTX = 0x02;

export const entryKinds = Object.freeze({ message: 0, call: 1, cancel: 2 });

export const contextFieldTypes = Object.freeze({ budgetMs: 1, requestId: 2, traceparent: 3, tracestate: 4 });

export const contextLimits = Object.freeze({
  maxContextBytes: 1024,
  maxRequestIdBytes: 64,
  maxTracestateBytes: 255,
  maxCancelIdBytes: 256,
  maxBudgetMs: 0xffff_ffff,
});

/** What a request carries on the wire besides its message; every member optional. */
export interface WireContext {
  budgetMs?: number | undefined;
  requestId?: string | undefined;
  traceparent?: string | undefined;
  tracestate?: string | undefined;
  /** Field 5 (the stream extension): this call opens a stream with this initial credit, in items. */
  streamWindow?: number | undefined;
}

/** The head of a kind-0 entry: one byte, shared. */
export const MESSAGE_HEAD: Buffer = Buffer.from([entryKinds.message]);

const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
const REQUEST_ID = /^[\x21-\x7e]{1,64}$/;
const TRACESTATE = /^[\x20-\x7e]{1,255}$/;

export function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && value.length === 55 && TRACEPARENT.test(value);
}

export function isRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID.test(value);
}

export function isTracestate(value: unknown): value is string {
  return typeof value === 'string' && TRACESTATE.test(value);
}

/**
 * The head written before a request's message: kind 1 and its context, or the kind-0 head when
 * the context is empty. Values that break the field rules are left out, never sent.
 */
export function callHead(context: WireContext): Buffer {
  const { budgetMs, requestId, traceparent, tracestate, streamWindow } = context;
  const hasWindow = streamWindow !== undefined;
  const hasBudget = budgetMs !== undefined;
  const hasId = requestId !== undefined && isRequestId(requestId);
  const hasParent = traceparent !== undefined && isTraceparent(traceparent);
  const hasState = hasParent && tracestate !== undefined && isTracestate(tracestate);
  const ctxBytes =
    (hasBudget ? 6 : 0) +
    (hasId ? 2 + requestId.length : 0) +
    (hasParent ? 57 : 0) +
    (hasState ? 2 + tracestate.length : 0) +
    (hasWindow ? 6 : 0);
  if (ctxBytes === 0) return MESSAGE_HEAD;
  const head = Buffer.allocUnsafe(3 + ctxBytes);
  head[0] = entryKinds.call;
  head.writeUInt16BE(ctxBytes, 1);
  let at = 3;
  if (hasBudget) {
    head[at] = contextFieldTypes.budgetMs;
    head[at + 1] = 4;
    head.writeUInt32BE(Math.min(contextLimits.maxBudgetMs, Math.max(0, Math.ceil(budgetMs))), at + 2);
    at += 6;
  }
  at = writeField(head, at, contextFieldTypes.requestId, hasId ? requestId : undefined);
  at = writeField(head, at, contextFieldTypes.traceparent, hasParent ? traceparent : undefined);
  at = writeField(head, at, contextFieldTypes.tracestate, hasState ? tracestate : undefined);
  if (hasWindow) {
    head[at] = STREAM_WINDOW_FIELD;
    head[at + 1] = 4;
    head.writeUInt32BE(Math.min(0xffff_ffff, Math.max(0, Math.floor(streamWindow))), at + 2);
  }
  return head;
}

function writeField(head: Buffer, at: number, type: number, value: string | undefined): number {
  if (value === undefined) return at;
  head[at] = type;
  head[at + 1] = value.length;
  head.write(value, at + 2, 'latin1');
  return at + 2 + value.length;
}

/** A kind-2 entry cancelling the request whose JSON-RPC id is `id`. */
export function cancelEntry(id: number | string): Buffer {
  const text = JSON.stringify(id);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > contextLimits.maxCancelIdBytes)
    throw new ProtocolError(
      'GAW_ERR_BAD_FRAME',
      `a cancelled id cannot exceed ${contextLimits.maxCancelIdBytes} bytes`,
    );
  const entry = Buffer.allocUnsafe(1 + bytes);
  entry[0] = entryKinds.cancel;
  entry.write(text, 1, 'utf8');
  return entry;
}

function fatal(reason: string): ProtocolError {
  return new ProtocolError('GAW_ERR_BAD_FRAME', `bad call-context entry: ${reason}`);
}

/**
 * Reads the context of a kind-1 entry (field 5 too when `hasStreams`); returns it and the offset
 * where the message starts.
 * Throws ProtocolError (fatal) for a structural fault.
 */
export function readCallEntry(entry: Buffer, hasStreams = false): { context: WireContext; messageAt: number } {
  // Field 5 means something only with the stream extension on; without it, it is an unknown field.
  const maxType = hasStreams ? STREAM_WINDOW_FIELD : contextFieldTypes.tracestate;
  if (entry.length < 3) throw fatal('too short for its context length');
  const ctxBytes = entry.readUInt16BE(1);
  if (ctxBytes > contextLimits.maxContextBytes) throw fatal(`context of ${ctxBytes} bytes, above 1024`);
  const end = 3 + ctxBytes;
  if (end >= entry.length) throw fatal('the context runs past the entry, or no message follows it');
  const context: WireContext = {};
  let seen = 0;
  let at = 3;
  while (at < end) {
    if (end - at < 2) throw fatal('a field header runs past the context');
    const type = entry[at] as number;
    const len = entry[at + 1] as number;
    const value = at + 2;
    at = value + len;
    if (at > end) throw fatal('a field runs past the context');
    if (type < 1 || type > maxType) continue;
    if (seen & (1 << type)) throw fatal(`field ${type} appears twice`);
    seen |= 1 << type;
    if (type === contextFieldTypes.budgetMs) {
      if (len !== 4) throw fatal('budget_ms must be 4 bytes');
      context.budgetMs = entry.readUInt32BE(value);
      continue;
    }
    if (type === STREAM_WINDOW_FIELD) {
      if (len !== 4) throw fatal('stream_window must be 4 bytes');
      context.streamWindow = entry.readUInt32BE(value);
      continue;
    }
    const text = entry.toString('latin1', value, at);
    if (type === contextFieldTypes.requestId) {
      if (isRequestId(text)) context.requestId = text;
    } else if (type === contextFieldTypes.traceparent) {
      if (isTraceparent(text)) context.traceparent = text;
    } else if (isTracestate(text)) context.tracestate = text;
  }
  // tracestate means nothing without its traceparent.
  if (context.traceparent === undefined) delete context.tracestate;
  return { context, messageAt: end };
}

/** The id text of a kind-2 entry; throws ProtocolError (fatal) when it is empty or too long. */
export function readCancelEntry(entry: Buffer): string {
  const bytes = entry.length - 1;
  if (bytes < 1 || bytes > contextLimits.maxCancelIdBytes)
    throw fatal(`a cancel must carry an id of 1 to ${contextLimits.maxCancelIdBytes} bytes`);
  return entry.toString('utf8', 1);
}
