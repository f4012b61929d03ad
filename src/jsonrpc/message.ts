// The JSON-RPC 2.0 message model: shapes, builders, request validation (server side) and response
// validation (client side). Works on plain decoded data; knows nothing of codecs, class tags,
// sockets or services. Error codes and their texts are in codes.ts.
import { ProtocolError, SerializationError } from '../errors.js';
import { quote, rpcErrorCodes, rpcErrorMessages } from './codes.js';

export type JsonRpcId = string | number | null;
export type JsonRpcParams = readonly unknown[] | { readonly [name: string]: unknown };

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  method: string;
  params?: JsonRpcParams;
  id: JsonRpcId;
}

/** A request without an `id` member: it is never answered, not even with an error. */
export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: JsonRpcParams;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface JsonRpcSuccess {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: unknown;
}

export interface JsonRpcFailure {
  jsonrpc: '2.0';
  id: JsonRpcId;
  error: JsonRpcErrorObject;
}

/** What parseResponse returns: the id and either the result or the error object. */
export type ParsedResponse = { id: JsonRpcId; result: unknown } | { id: JsonRpcId; error: JsonRpcErrorObject };

/** A request. `params` is left out when undefined. */
export function requestMessage(id: JsonRpcId, method: string, params?: JsonRpcParams): JsonRpcRequest {
  return params === undefined ? { jsonrpc: '2.0', method, id } : { jsonrpc: '2.0', method, params, id };
}

/** A notification (no id). `params` is left out when undefined. */
export function notificationMessage(method: string, params?: JsonRpcParams): JsonRpcNotification {
  return params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params };
}

/** A success response; an undefined result is sent as null (a response must carry `result`). */
export function successResponse(id: JsonRpcId, result: unknown): JsonRpcSuccess {
  return { jsonrpc: '2.0', id, result: result === undefined ? null : result };
}

/** An error response; `data` is left out when undefined. */
export function errorResponse(id: JsonRpcId, code: number, message: string, data?: unknown): JsonRpcFailure {
  const error: JsonRpcErrorObject = data === undefined ? { code, message } : { code, message, data };
  return { jsonrpc: '2.0', id, error };
}

/** True for a value allowed as a JSON-RPC id: a string, a finite number or null. */
function isValidId(value: unknown): value is JsonRpcId {
  return typeof value === 'string' || value === null || (typeof value === 'number' && Number.isFinite(value));
}

/** True for a plain object (not an array, a buffer, a Map or a class instance). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The id of a message when it can be read (a valid id member), else null. */
export function readId(message: unknown): JsonRpcId {
  if (!isPlainObject(message)) return null;
  const id = message.id;
  return isValidId(id) ? id : null;
}

/**
 * Why `message` is not a valid JSON-RPC 2.0 request or notification, or undefined when it is one.
 * Allocates nothing for a valid message. A message whose `id` is undefined is a notification.
 */
export function requestProblem(message: unknown): string | undefined {
  if (!isPlainObject(message)) {
    return Array.isArray(message) ? 'a batch may not contain another batch' : 'a request must be an object';
  }
  if (message.jsonrpc !== '2.0') return 'the jsonrpc member must be exactly "2.0"';
  if (typeof message.method !== 'string') return 'the method member must be a string';
  const params = message.params;
  if (params !== undefined && !Array.isArray(params) && !isPlainObject(params)) {
    return 'params must be an array or an object when present';
  }
  const id = message.id;
  if (id !== undefined && !isValidId(id)) return 'the id must be a string, a number or null';
  return undefined;
}

/**
 * True for a notification: a request-shaped object (a string method) without an id. It is never
 * answered, not even with an error; any other message, valid or not, gets a reply.
 */
export function isNotification(message: unknown): boolean {
  return isPlainObject(message) && message.id === undefined && typeof message.method === 'string';
}

function badResponse(reason: string): ProtocolError {
  return new ProtocolError('GAW_ERR_BAD_RESPONSE', `not a JSON-RPC 2.0 response: ${reason}`);
}

/**
 * Validates one response object (a batch reply is an array of these: parse each element).
 * Throws ProtocolError GAW_ERR_BAD_RESPONSE naming what is wrong.
 */
export function parseResponse(data: unknown): ParsedResponse {
  if (!isPlainObject(data))
    throw badResponse(Array.isArray(data) ? 'got an array (parse batch elements one by one)' : 'not an object');
  if (data.jsonrpc !== '2.0') throw badResponse('the jsonrpc member is not "2.0"');
  if (!Object.hasOwn(data, 'id')) throw badResponse('the id member is missing');
  const id = data.id;
  if (!isValidId(id)) throw badResponse('the id is not a string, a number or null');
  const hasResult = Object.hasOwn(data, 'result');
  const hasError = Object.hasOwn(data, 'error');
  if (hasResult === hasError)
    throw badResponse(hasResult ? 'it has both result and error' : 'it has neither result nor error');
  if (hasResult) return { id, result: data.result };
  const error = data.error;
  if (!isPlainObject(error)) throw badResponse('the error member is not an object');
  const code = error.code;
  if (typeof code !== 'number' || !Number.isSafeInteger(code)) throw badResponse('error.code is not an integer');
  if (typeof error.message !== 'string') throw badResponse('error.message is not a string');
  const parsed: JsonRpcErrorObject = Object.hasOwn(error, 'data')
    ? { code, message: error.message, data: error.data }
    : { code, message: error.message };
  return { id, error: parsed };
}

/** The -32700 reply (id null) for bytes that did not decode; the message never echoes the input at length. */
export function parseErrorResponse(err: unknown): JsonRpcFailure {
  const base = rpcErrorMessages[rpcErrorCodes.PARSE_ERROR]!;
  if (err instanceof SerializationError && err.code === 'GAW_ERR_DEPTH_EXCEEDED') {
    return errorResponse(null, rpcErrorCodes.PARSE_ERROR, `${base}: the message nests deeper than the limit`);
  }
  if (err instanceof SerializationError && err.code === 'GAW_ERR_DECODE') {
    return errorResponse(null, rpcErrorCodes.PARSE_ERROR, `${base}: ${quote(err.message, 160)}`);
  }
  return errorResponse(null, rpcErrorCodes.PARSE_ERROR, base);
}

/**
 * Makes a reply encodable: every response object in `reply` (one, or the elements of a batch) that
 * `tryEncode` throws on is replaced by a -32603 error with the same id whose message says why.
 * Use it after encoding the whole reply failed, then encode the repaired reply.
 */
export function repairReply(reply: unknown, tryEncode: (value: unknown) => unknown): unknown {
  if (Array.isArray(reply)) return reply.map((element) => repairOne(element, tryEncode));
  return repairOne(reply, tryEncode);
}

function repairOne(response: unknown, tryEncode: (value: unknown) => unknown): unknown {
  try {
    tryEncode(response);
    return response;
  } catch (err) {
    const detail = err instanceof Error ? err.message : 'the value cannot be encoded';
    const what = isPlainObject(response) && Object.hasOwn(response, 'error') ? 'error data' : 'result';
    return errorResponse(
      readId(response),
      rpcErrorCodes.INTERNAL_ERROR,
      `${rpcErrorMessages[rpcErrorCodes.INTERNAL_ERROR]}: the ${what} could not be encoded: ${quote(detail, 200)}`,
    );
  }
}
