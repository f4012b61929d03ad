// The small rules of the WebSocket endpoint, free of sockets: the subprotocols and the bearer
// token a handshake offers, a token in a URL (refused), the per-request `gaw` context member, the
// names a socket may subscribe to, the built-in methods' params, and refusing a whole message.
import { timingSafeEqual } from 'node:crypto';
import { errorResponse, isNotification, isPlainObject, readId } from '../jsonrpc/index.js';
import { isRequestId, isTraceparent, isTracestate } from '../postoffice/index.js';
import type { WireContext } from '../postoffice/index.js';
import { hashToken } from './http-rules.js';

/** The subprotocol the server selects. */
export const jsonRpcProtocol = 'gaw.jsonrpc';
/** The prefix of the subprotocol that carries a bearer token. */
export const bearerProtocolPrefix = 'gaw.bearer.';

/** The WebSocket close codes the server sends (docs/http-bridge.md lists them). */
export const closeCodes = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  INTERNAL_ERROR: 1011,
  UNAUTHORIZED: 4401,
} as const;

const maxProtocolHeaderChars = 4096;

/** The token a `Sec-WebSocket-Protocol` header offers as `gaw.bearer.<token>`, if any. */
export function bearerFromProtocols(header: string | undefined): string | undefined {
  if (header === undefined || header.length > maxProtocolHeaderChars) return undefined;
  for (const entry of header.split(',')) {
    const protocol = entry.trim();
    if (protocol.startsWith(bearerProtocolPrefix) && protocol.length > bearerProtocolPrefix.length)
      return protocol.slice(bearerProtocolPrefix.length);
  }
  return undefined;
}

/** True when `token` hashes to `tokenHash` (constant time, over digests). */
export function isTokenRight(token: unknown, tokenHash: Buffer): boolean {
  return typeof token === 'string' && token.length <= 4096 && timingSafeEqual(hashToken(token), tokenHash);
}

/** True when the URL's query names a token (`token`, `access_token`, any case): never taken from a URL. */
export function hasTokenInQuery(url: string | undefined): boolean {
  const query = url?.indexOf('?') ?? -1;
  if (query < 0) return false;
  return /(?:^|&)(?:access_)?token=/i.test(url!.slice(query + 1));
}

const TIMEOUT_MAX = 0xffff_ffff;

/**
 * The call context of one message from its optional `gaw` member (the first element's, for a
 * batch): `timeoutMs`, `requestId`, `traceparent`, `tracestate`. A malformed id or trace is
 * ignored, as over HTTP; a malformed timeoutMs is a string saying so.
 */
export function readWireContext(message: unknown): WireContext | undefined | string {
  const head = Array.isArray(message) ? message[0] : message;
  if (!isPlainObject(head) || !isPlainObject(head.gaw)) return undefined;
  const { timeoutMs, requestId, traceparent, tracestate } = head.gaw;
  let wire: WireContext | undefined;
  if (timeoutMs !== undefined) {
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > TIMEOUT_MAX)
      return 'gaw.timeoutMs must be an integer number of milliseconds (0 to 4294967295)';
    wire = { budgetMs: timeoutMs };
  }
  if (typeof requestId === 'string' && isRequestId(requestId)) {
    wire ??= {};
    wire.requestId = requestId;
  }
  if (typeof traceparent === 'string' && isTraceparent(traceparent)) {
    wire ??= {};
    wire.traceparent = traceparent;
    if (typeof tracestate === 'string' && isTracestate(tracestate)) wire.tracestate = tracestate;
  }
  return wire;
}

const topicPattern = /^[A-Za-z0-9_.:/-]{1,128}$/;

/** Undefined when `name` may be subscribed to, else why not. */
export function topicProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || !topicPattern.test(name)) return 'names are 1 to 128 of A-Z a-z 0-9 _ . : / -';
  if (name.startsWith('rpc.')) return 'names starting with rpc. are kept for gaw';
  return undefined;
}

/** The names of rpc.subscribe / rpc.unsubscribe: an array of names, or `{ "topics": [...] }`. */
export function readTopics(params: unknown): string[] | string {
  const list = isPlainObject(params) ? params.topics : params;
  if (!Array.isArray(list) || list.length === 0) return 'params must be a non-empty array of names';
  if (list.length > 1024) return 'too many names in one call';
  for (const name of list) {
    const problem = topicProblem(name);
    if (problem !== undefined) return problem;
  }
  return list as string[];
}

/** The id rpc.cancel names: `{ "id": … }` or `[id]`. */
export function readCancelId(params: unknown): number | string | undefined {
  const id = isPlainObject(params) ? params.id : Array.isArray(params) ? params[0] : undefined;
  return typeof id === 'number' || typeof id === 'string' ? id : undefined;
}

/** The token rpc.auth carries: `{ "token": … }` or `[token]`. */
export function readAuthToken(params: unknown): unknown {
  return isPlainObject(params) ? params.token : Array.isArray(params) ? params[0] : undefined;
}

/** The reply refusing a whole message unrun (an error per request, nothing for notifications). */
export function refuseMessage(message: unknown, code: number, reason: string): unknown {
  if (!Array.isArray(message))
    return isNotification(message) ? undefined : errorResponse(readId(message), code, reason);
  if (message.length === 0) return errorResponse(null, code, reason);
  const replies: object[] = [];
  for (const element of message)
    if (!isNotification(element)) replies.push(errorResponse(readId(element), code, reason));
  return replies.length === 0 ? undefined : replies;
}

/** A push's params: an array or object as given, anything else (but undefined) wrapped in an array. */
export function pushParams(params: unknown): unknown {
  return params === undefined || (typeof params === 'object' && params !== null) ? params : [params];
}
