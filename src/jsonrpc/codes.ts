// The JSON-RPC 2.0 numeric error codes gaw sends, with the specification's standard texts, and a
// helper that quotes untrusted text (method names, parameter names) safely into messages.
// Owns no message shapes (see message.ts) and none of gaw's string error codes (src/errors.ts).

/** Every JSON-RPC error code gaw itself sends. Service code may send any other integer via ServiceError. */
export const rpcErrorCodes = {
  /** The bytes are not valid JSON / msgpack, or nest too deeply. */
  PARSE_ERROR: -32700,
  /** The message is not a valid JSON-RPC 2.0 request (or a batch is empty or too large). */
  INVALID_REQUEST: -32600,
  /** No exposed method has that name. */
  METHOD_NOT_FOUND: -32601,
  /** Unknown, missing or too many parameters, or a parameter value that cannot be decoded. */
  INVALID_PARAMS: -32602,
  /** A fault inside gaw itself, e.g. a result that cannot be encoded. */
  INTERNAL_ERROR: -32603,
  /** The handler threw something other than a ServiceError; data is `{ name, message }`. */
  SERVER_ERROR: -32000,
  /** The server is shutting down and did not run the request: safe to retry elsewhere. */
  SHUTTING_DOWN: -32001,
  /** The connection has too many calls in flight and the request was not run: safe to retry. */
  OVERLOADED: -32002,
  /** The handler did not finish within handlerTimeoutMs; its late result is dropped. */
  HANDLER_TIMEOUT: -32003,
  /**
   * The caller's deadline passed: before the request started (it was not run), or while a call the
   * handler made to another service waited for its reply.
   */
  DEADLINE_EXCEEDED: -32004,
  /** A service the handler called could not be reached or refused the call (no address is sent). */
  UNAVAILABLE: -32005,
  /** The caller cancelled the request (a reply only a forwarding hop still reads). */
  CANCELLED: -32006,
  /**
   * A stream was asked of a method that does not stream, or a method that streams was called as a
   * single call (or over a connection without the stream extension); it did not stream.
   */
  STREAM_MISMATCH: -32020,
} as const;

/** The specification's texts for its own codes; gaw's messages start with these. */
export const rpcErrorMessages: Readonly<Record<number, string>> = Object.freeze({
  [-32700]: 'Parse error',
  [-32600]: 'Invalid Request',
  [-32601]: 'Method not found',
  [-32602]: 'Invalid params',
  [-32603]: 'Internal error',
  [-32000]: 'Server error',
  [-32001]: 'Server shutting down',
  [-32002]: 'Server overloaded',
  [-32003]: 'Handler timeout',
  [-32004]: 'Deadline exceeded',
  [-32005]: 'Service unavailable',
  [-32006]: 'Cancelled',
  [-32020]: 'Stream mismatch',
});

/** Longest piece of untrusted text quoted into a message or a log line. */
const maxQuotedChars = 64;

/**
 * `text` as a JSON string literal, cut to `maxChars` characters (with "…" after the closing quote
 * when cut): never multi-line, never unbounded, safe to put in a message or a log line.
 */
export function quote(text: string, maxChars: number = maxQuotedChars): string {
  if (text.length <= maxChars) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, maxChars))}…`;
}
