// The small HTTP rules of the /api bridge, free of sockets: the JSON content-type check, a body
// another middleware parsed turned back into bytes, the bearer-token comparison (constant time, on SHA-256 digests so lengths leak nothing), the
// JSON-RPC-shaped body of every HTTP refusal, and the -32603 replies for a dispatch function that
// failed. http-handler.ts and http-bridge.ts apply them.
import { createHash, timingSafeEqual } from 'node:crypto';
import { errorResponse, isPlainObject, readId, rpcErrorCodes } from '../jsonrpc/index.js';

const maxAuthorizationChars = 4096;
const bearerPattern = /^Bearer +([\x21-\x7e]+) *$/i;

/** The media types JSON-RPC clients send: jsonrpclib-pelix sends the second, some old clients the third. */
const jsonMediaTypes: ReadonlySet<string> = new Set([
  'application/json',
  'application/json-rpc',
  'application/jsonrequest',
]);

/**
 * True for `application/json`, `application/json-rpc` or `application/jsonrequest`, with a utf-8
 * charset or none, and any other parameters.
 */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === 'application/json') return true;
  if (header === undefined || header.length > 256) return false;
  const parts = header.split(';');
  if (!jsonMediaTypes.has(parts[0]!.trim().toLowerCase())) return false;
  for (let i = 1; i < parts.length; i++) {
    const eq = parts[i]!.indexOf('=');
    if (eq < 0) continue;
    if (parts[i]!.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const charset = parts[i]!.slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') return false;
  }
  return true;
}

/** The SHA-256 digest a token is compared by. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** True when `header` is `Bearer <token>` for the token whose digest is `tokenHash`. */
export function isBearerAuthorized(header: string | undefined, tokenHash: Buffer): boolean {
  if (header === undefined || header.length > maxAuthorizationChars) return false;
  const match = bearerPattern.exec(header);
  return match !== null && timingSafeEqual(hashToken(match[1]!), tokenHash);
}

/** -32603 for every request in a message whose dispatch failed (a dispatch function should not reject). */
export function internalErrors(message: unknown): unknown {
  const forOne = (m: unknown): object | undefined =>
    isPlainObject(m) && m.id === undefined
      ? undefined
      : errorResponse(readId(m), rpcErrorCodes.INTERNAL_ERROR, 'Internal error');
  if (!Array.isArray(message))
    return forOne(message) ?? errorResponse(null, rpcErrorCodes.INTERNAL_ERROR, 'Internal error');
  const replies = message.map(forOne).filter((r) => r !== undefined);
  return replies.length > 0 ? replies : errorResponse(null, rpcErrorCodes.INTERNAL_ERROR, 'Internal error');
}

/** The JSON-RPC code and message prefix an HTTP refusal carries. */
function refusalError(status: number, isShuttingDown: boolean): [number, string] {
  if (status === 503)
    return isShuttingDown
      ? [rpcErrorCodes.SHUTTING_DOWN, 'Server shutting down']
      : [rpcErrorCodes.OVERLOADED, 'Server overloaded'];
  if (status >= 500) return [rpcErrorCodes.INTERNAL_ERROR, 'Internal error'];
  return [rpcErrorCodes.INVALID_REQUEST, 'Invalid Request'];
}

/**
 * The body of an HTTP-level refusal: a JSON-RPC error response with id null (the request was not
 * read, so its id is unknown), the reason in the message and the HTTP status in `data`, so a
 * JSON-RPC client can report it. The status line keeps the HTTP status.
 */
export function refusalBody(status: number, reason: string, isShuttingDown = false): string {
  const [code, prefix] = refusalError(status, isShuttingDown);
  return JSON.stringify(errorResponse(null, code, `${prefix}: ${reason}`, { httpStatus: status }));
}

/**
 * A body another middleware already parsed into `req.body` (a Buffer, a string, or a JSON value),
 * as bytes again so the same cap and decoder apply; undefined when it left nothing JSON there.
 */
export function parsedBodyBytes(parsed: unknown): Buffer | undefined {
  if (Buffer.isBuffer(parsed)) return parsed;
  if (typeof parsed === 'string') return Buffer.from(parsed, 'utf8');
  if (parsed === undefined) return undefined;
  let text: string | undefined;
  try {
    text = JSON.stringify(parsed);
  } catch {
    return undefined;
  }
  return text === undefined ? undefined : Buffer.from(text, 'utf8');
}
