// The error classes and the one table of stable error codes. Callers match on `err.code`; a code
// never changes meaning, a message may. This file knows nothing of sockets or codecs; the JSON-RPC
// numeric codes live in src/jsonrpc. ServiceError is here because service code throws it.

/** Every stable code gaw throws, with what it means. The README's error table mirrors this. */
export const errorCodes = {
  // Usage and configuration: the caller's mistake, found before anything is sent.
  GAW_ERR_INVALID_OPTION: 'an option has a wrong type or value; the message names it',
  GAW_ERR_BAD_SECRET: 'the secret is not base64 of exactly 16, 24 or 32 bytes (its value is never shown)',
  GAW_ERR_NOT_A_SERVICE: 'a class given to the server has no service name or no exposed methods',
  GAW_ERR_DUPLICATE_SERVICE: 'two services with the same name were added to one server',
  GAW_ERR_DUPLICATE_TAG: 'two classes were registered under the same serializable tag',
  GAW_ERR_ADDRESS_IN_USE: 'the port to listen on is taken',
  GAW_ERR_CLOSED: 'the client or server was already closed',
  GAW_ERR_MODULE_LOAD: 'the CLI could not load the module it was given: not found, or it threw while loading',
  GAW_ERR_MISSING_DEPENDENCY: 'a feature needs an optional package that is not installed; the message names it',
  // Protocol: the peer broke GAWP/1; the connection is destroyed.
  GAW_ERR_FRAME_TOO_LARGE: 'a frame or message larger than maxPayloadBytes plus the suite overhead',
  GAW_ERR_BAD_FRAME:
    'a frame length below the suite minimum or misaligned, an unknown frame type, or bad message framing',
  GAW_ERR_AUTH_FAILED: 'a frame or handshake confirm failed authentication: wrong secret, tampering or replay',
  GAW_ERR_BAD_HANDSHAKE: 'a hello that is not GAWP/1, or a server hello that does not match what was offered',
  GAW_ERR_HANDSHAKE_REJECTED: 'the server refused the handshake (version, suite, codec, key id, busy or flags)',
  GAW_ERR_SEQ_EXHAUSTED: 'a connection carried 2^53 - 1 frames in one direction and must be replaced',
  GAW_ERR_BAD_RESPONSE: 'a reply that is not a valid JSON-RPC 2.0 response',
  GAW_ERR_LEGACY_REJECTED:
    'a Python Gaw 0.7 server could not read a request (succ: false; DecodeError usually means a wrong secret or encrypt setting)',
  // Connection: the transport failed or was closed.
  GAW_ERR_CONN_CLOSED: 'the connection closed before the operation completed',
  GAW_ERR_CONN_REFUSED: 'nothing accepts connections at the endpoint',
  GAW_ERR_REDIS_UNAVAILABLE: 'Redis (the registry or events engine) is not connected or did not answer in time',
  GAW_ERR_BACKPRESSURE: "the peer stopped reading and the connection's unsent output passed its cap",
  // Discovery: finding a service's instances by name in the registry.
  GAW_ERR_DISCOVERY_UNAVAILABLE: 'the registry is unreachable and this name was never resolved, so no last view exists',
  GAW_ERR_NO_ENDPOINT: 'the registry lists no live instance of the service called',
  // Timeouts.
  GAW_ERR_CONNECT_TIMEOUT: 'the TCP connection was not established in time',
  GAW_ERR_HANDSHAKE_TIMEOUT: 'the handshake did not finish within handshakeTimeoutMs',
  GAW_ERR_FRAME_TIMEOUT: 'a started frame did not complete within frameTimeoutMs',
  GAW_ERR_IDLE_TIMEOUT: 'the connection was idle for longer than idleTimeoutMs',
  GAW_ERR_CALL_TIMEOUT: 'a call got no reply within its timeout',
  GAW_ERR_DEADLINE: "in a handler: the caller's deadline passed (callContext().signal's reason)",
  // Serialization: a value that cannot cross the wire, or received data that is not a valid value.
  GAW_ERR_UNENCODABLE:
    'a value cannot be encoded (function, symbol, unregistered class, cycle); the message names its path',
  GAW_ERR_UNKNOWN_TAG: 'received data names a class tag that is not registered',
  GAW_ERR_BAD_TAGGED_VALUE: 'a tagged value has the wrong shape for its tag',
  GAW_ERR_DEPTH_EXCEEDED: 'a value nests deeper than maxDepth',
  GAW_ERR_DECODE: 'received bytes are not valid JSON or msgpack',
  // Calls.
  GAW_ERR_REMOTE: 'the remote method failed; see rpcCode, message and data',
  GAW_ERR_SERVICE: 'thrown by service code (ServiceError): its rpcCode, message and data are sent to the caller',
  GAW_ERR_ABORTED: "the caller's AbortSignal fired",
  // Events.
  GAW_ERR_EVENT_TOO_LARGE: 'an event to send seals to more than maxEventBytes',
} as const;

export type ErrorCode = keyof typeof errorCodes;

export interface GawErrorOptions {
  cause?: unknown;
}

/** The base of every error gaw throws. */
export class GawError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: GawErrorOptions) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** A mistake in how gaw was called or configured. */
export class UsageError extends GawError {}

/** A peer broke the wire protocol. */
export class ProtocolError extends GawError {}

/** The transport failed or was closed. */
export class ConnectionError extends GawError {
  /**
   * False only when the request provably never reached a handler (refused, handshake failed, or
   * the connection died before the request was fully written), so a retry cannot run it twice.
   */
  readonly mayHaveReachedServer: boolean;

  constructor(code: ErrorCode, message: string, options?: GawErrorOptions & { mayHaveReachedServer?: boolean }) {
    super(code, message, options);
    this.mayHaveReachedServer = options?.mayHaveReachedServer ?? true;
  }
}

/** Something did not happen within its deadline. */
export class TimeoutError extends GawError {}

/** A value could not be encoded, or received data could not be decoded. */
export class SerializationError extends GawError {
  /** Where in the value the problem is, e.g. `result.items[3]`; empty for the root. */
  readonly path: string;

  constructor(code: ErrorCode, message: string, options?: GawErrorOptions & { path?: string }) {
    super(code, message, options);
    this.path = options?.path ?? '';
  }
}

/** The caller's AbortSignal fired. */
export class AbortError extends GawError {
  constructor(message = 'the operation was aborted', options?: GawErrorOptions) {
    super('GAW_ERR_ABORTED', message, options);
  }

  override get name(): string {
    return 'AbortError';
  }
}

/** Why a GAWP/1 server refused a handshake (`unknown`: a reason this version does not know). */
export type HandshakeRejectReason = 'version' | 'suite' | 'codec' | 'keyId' | 'busy' | 'flags' | 'unknown';

/**
 * The server refused the handshake; `reason` says why (`busy` is the only transient one) and,
 * for a suite refusal, `requiredSuite` names the suite the server wants.
 */
export class HandshakeRejectedError extends ProtocolError {
  readonly reason: HandshakeRejectReason;
  readonly requiredSuite: 'none' | 'sign' | 'cbc' | 'secretbox' | undefined;

  constructor(
    message: string,
    reason: HandshakeRejectReason,
    requiredSuite?: 'none' | 'sign' | 'cbc' | 'secretbox',
    options?: GawErrorOptions,
  ) {
    super('GAW_ERR_HANDSHAKE_REJECTED', message, options);
    this.reason = reason;
    this.requiredSuite = requiredSuite;
  }
}

/** A JSON-RPC error returned by the remote side; the stack is the caller's own. */
export class RemoteError extends GawError {
  /** The JSON-RPC error code, e.g. -32601, or the code a service chose. */
  readonly rpcCode: number;
  readonly data: unknown;

  constructor(rpcCode: number, message: string, data?: unknown, options?: GawErrorOptions) {
    super('GAW_ERR_REMOTE', message, options);
    this.rpcCode = rpcCode;
    this.data = data;
  }
}

/**
 * Thrown by service code to send a chosen JSON-RPC error: its `rpcCode`, message and data reach
 * the caller as given (as a RemoteError with the same `rpcCode` and `data`). Any other thrown
 * value becomes a generic server error. `code` is `'GAW_ERR_SERVICE'`, like every gaw error's
 * string code; the number is `rpcCode`, as on RemoteError.
 */
export class ServiceError extends Error {
  readonly code = 'GAW_ERR_SERVICE' as const;
  /** The JSON-RPC error code sent to the caller (any integer; -32768..-32000 are JSON-RPC's own). */
  readonly rpcCode: number;
  readonly data: unknown;

  constructor(rpcCode: number, message: string, data?: unknown, options?: ErrorOptions) {
    super(message, options);
    if (!Number.isSafeInteger(rpcCode)) throw new TypeError('ServiceError rpcCode must be an integer');
    this.rpcCode = rpcCode;
    this.data = data;
  }

  override get name(): string {
    return 'ServiceError';
  }
}

/** True when `err` is a GawError with the given code. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof GawError && err.code === code;
}
