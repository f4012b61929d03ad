// The two messages of every call as JSON text, for text codecs: a request and a success response
// with their fixed members written as text around the JSON of params or result, which the codec
// stringifies alone. Byte for byte what JSON.stringify writes for requestMessage() and
// successResponse() (same members, same order), at a fraction of the cost: stringifying the whole
// object costs ~520 ns for a tiny request, params alone ~160 ns. Knows nothing of codecs or bytes.
import type { JsonRpcId } from './message.js';

const requestHead = '{"jsonrpc":"2.0","method":';

/** The quoted form of recent method names: calls repeat a handful of them. */
const quotedMethods = new Map<string, string>();
const maxQuotedMethods = 1024;

function quoted(method: string): string {
  let text = quotedMethods.get(method);
  if (text === undefined) {
    text = JSON.stringify(method);
    if (quotedMethods.size >= maxQuotedMethods) quotedMethods.clear();
    quotedMethods.set(method, text);
  }
  return text;
}

/** A JSON number or string id as JSON text: JSON.stringify's own output for it. */
function idText(id: JsonRpcId): string {
  // For a finite number (the only numbers a JsonRpcId holds) String() and JSON.stringify agree.
  return typeof id === 'number' ? String(id) : JSON.stringify(id);
}

/**
 * `{"jsonrpc":"2.0","method":…,"params":…,"id":…}` with `paramsText` as the params member (left
 * out when undefined): JSON.stringify(requestMessage(id, method, params)) when `paramsText` is
 * JSON.stringify(params).
 */
export function requestText(id: number, method: string, paramsText: string | undefined): string {
  return paramsText === undefined
    ? `${requestHead}${quoted(method)},"id":${idText(id)}}`
    : `${requestHead}${quoted(method)},"params":${paramsText},"id":${idText(id)}}`;
}

/**
 * `{"jsonrpc":"2.0","id":…,"result":…}`: JSON.stringify(successResponse(id, result)) when
 * `resultText` is JSON.stringify(result).
 */
export function successText(id: JsonRpcId, resultText: string): string {
  return `{"jsonrpc":"2.0","id":${idText(id)},"result":${resultText}}`;
}

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const responseHead = ascii('{"jsonrpc":"2.0","id":');
const requestHeadBytes = ascii('{"jsonrpc":"2.0","method":"');
const resultKey = ascii(',"result":');
const paramsKey = ascii(',"params":');
const idKey = ascii(',"id":');

/** True when `bytes` holds `expected` at `at`. Bytes, not text: a JIT-compiled byte loop is the cheap form. */
function holds(bytes: Uint8Array, at: number, expected: Uint8Array): boolean {
  if (at < 0 || at + expected.length > bytes.length) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

/**
 * The id at bytes[start, end) when it is what our own peers write: a non-negative integer of at
 * most 15 digits with no leading zero (exact as a double); else -1.
 */
function shortId(bytes: Uint8Array, start: number, end: number): number {
  const digits = end - start;
  if (digits < 1 || digits > 15 || (digits > 1 && bytes[start] === 0x30)) return -1;
  let id = 0;
  for (let i = start; i < end; i++) id = id * 10 + (bytes[i] as number) - 0x30;
  return id;
}

/**
 * The response that JSON.parse(text) would give (`bytes` is its UTF-8), read without parsing its
 * fixed members, when it is in the form successText() writes with a short id; undefined for any
 * other message (parse it whole then). Exact: the message is the fixed prefix, the id,
 * `,"result":`, one JSON value (parsed by JSON.parse, so this throws when that part is not JSON)
 * and `}`: a JSON object with just those members. Everything before the value and after it is
 * ASCII, so byte offsets are text offsets.
 */
export function responseFromText(text: string, bytes: Uint8Array): unknown {
  const n = bytes.length;
  if (!holds(bytes, 0, responseHead) || bytes[n - 1] !== 0x7d) return undefined;
  let i = responseHead.length;
  while (isDigit(bytes[i])) i++;
  const id = shortId(bytes, responseHead.length, i);
  if (id < 0 || !holds(bytes, i, resultKey)) return undefined;
  const valueStart = i + resultKey.length;
  return { jsonrpc: '2.0', id, result: JSON.parse(text.slice(valueStart, text.length - 1)) };
}

/**
 * The request that JSON.parse(text) would give, when it is in the form requestText() writes (a
 * method of printable ASCII without escapes, a short id, params present or not); undefined for
 * any other message. Exact for the same reasons as responseFromText.
 */
export function requestFromText(text: string, bytes: Uint8Array): unknown {
  const n = bytes.length;
  if (!holds(bytes, 0, requestHeadBytes) || bytes[n - 1] !== 0x7d) return undefined;
  const methodStart = requestHeadBytes.length;
  let i = methodStart;
  for (; i < n; i++) {
    const c = bytes[i] as number;
    if (c === 0x22) break;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return undefined;
  }
  const afterMethod = i + 1;
  let idStart = n - 1;
  while (idStart > afterMethod && isDigit(bytes[idStart - 1])) idStart--;
  const id = shortId(bytes, idStart, n - 1);
  const idKeyAt = idStart - idKey.length;
  if (id < 0 || idKeyAt < afterMethod || !holds(bytes, idKeyAt, idKey)) return undefined;
  const method = text.slice(methodStart, i);
  if (idKeyAt === afterMethod) return { jsonrpc: '2.0', method, id };
  if (!holds(bytes, afterMethod, paramsKey)) return undefined;
  // From the end: the text after the params is as long in characters as in bytes.
  const params: unknown = JSON.parse(text.slice(afterMethod + paramsKey.length, text.length - (n - idKeyAt)));
  return { jsonrpc: '2.0', method, params, id };
}
