// Python Gaw 0.7's request and reply envelopes, and their translation to and from JSON-RPC 2.0.
// Works on plain decoded data (tags left as {_t,_v}); knows nothing of bytes, sockets or the class
// registry: callers pass values already encoded and revive what they get back.
//   request: {"_v": {"id": <int>, "path": "svc/method", "payload": {"args": {"_v": [..], "_t": "tuple"}, "kwargs": {..}}}, "_t": "RequestDataType"}
//   reply  : {"succ": true, "data": {"_v": {"resp_to": <id>, "success": <bool>, "payload": <result | {name, message, trace}>}, "_t": "ResponseDataType"}}
//   or, for a request the server could not read: {"succ": false, "data": {"name", "message", "trace"}}
import { ProtocolError } from '../errors.js';
import { isPlainObject, quote, requestMessage, rpcErrorCodes } from '../jsonrpc/index.js';
import type { JsonRpcRequest } from '../jsonrpc/index.js';

/** A Python request id: echoed exactly, so integers beyond 2^53 are bigint. */
export type LegacyId = number | bigint | string;

export interface LegacyRequest {
  id: LegacyId;
  /** 'service/method' */
  path: string;
  /** Positional arguments, as plain (registry-encoded) data. */
  args: unknown[];
  /** Keyword arguments, as plain (registry-encoded) data. */
  kwargs: Record<string, unknown>;
}

/** A Python exception as the envelope carries it. */
export interface LegacyException {
  name: string;
  message: string;
  trace: string;
}

export type LegacyReply =
  | { kind: 'result'; respTo: LegacyId; payload: unknown }
  | ({ kind: 'exception'; respTo: LegacyId } & LegacyException)
  | ({ kind: 'transport-error' } & LegacyException);

/** Why a request envelope could not be read; `id` is set when the request's id was readable. */
export class LegacyRequestError extends Error {
  readonly id: LegacyId | undefined;
  /** The Python exception name the reply carries. */
  readonly pythonName: string;

  constructor(message: string, id?: LegacyId, pythonName = 'ValueError') {
    super(message);
    this.id = id;
    this.pythonName = pythonName;
  }
}

function isLegacyId(value: unknown): value is LegacyId {
  return (
    typeof value === 'bigint' || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
  );
}

/** The request envelope, with keys in the order Python Gaw writes them. */
export function requestEnvelope(request: LegacyRequest): unknown {
  return {
    _v: {
      id: request.id,
      path: request.path,
      payload: { args: { _v: request.args, _t: 'tuple' }, kwargs: request.kwargs },
    },
    _t: 'RequestDataType',
  };
}

/** Reads a request envelope. Throws LegacyRequestError naming what is wrong (with the id if readable). */
export function readRequest(value: unknown): LegacyRequest {
  if (!isPlainObject(value) || value._t !== 'RequestDataType' || !isPlainObject(value._v)) {
    throw new LegacyRequestError('the message is not a RequestDataType');
  }
  const body = value._v;
  if (!isLegacyId(body.id)) throw new LegacyRequestError('the request id must be an integer or a string');
  const id = body.id;
  if (typeof body.path !== 'string') throw new LegacyRequestError('the request path must be a string', id);
  const payload = body.payload ?? {};
  if (!isPlainObject(payload)) throw new LegacyRequestError('the request payload must be an object', id);
  let args: unknown = payload.args ?? [];
  if (isPlainObject(args) && args._t === 'tuple') args = args._v;
  if (!Array.isArray(args)) throw new LegacyRequestError('args must be a tuple', id);
  const kwargs = payload.kwargs ?? {};
  if (!isPlainObject(kwargs)) throw new LegacyRequestError('kwargs must be an object', id);
  return { id, path: body.path, args, kwargs };
}

/** The reply envelope for a reply, with keys in the order Python Gaw writes them. */
export function replyEnvelope(reply: LegacyReply): unknown {
  if (reply.kind === 'transport-error') {
    return { succ: false, data: { name: reply.name, message: reply.message, trace: reply.trace } };
  }
  const payload =
    reply.kind === 'result'
      ? reply.payload === undefined
        ? null
        : reply.payload
      : { name: reply.name, message: reply.message, trace: reply.trace };
  return {
    succ: true,
    data: { _v: { resp_to: reply.respTo, success: reply.kind === 'result', payload }, _t: 'ResponseDataType' },
  };
}

function badReply(reason: string): ProtocolError {
  return new ProtocolError('GAW_ERR_BAD_RESPONSE', `not a Python Gaw 0.7 reply: ${reason}`);
}

function readException(value: unknown, where: string): LegacyException {
  if (!isPlainObject(value)) throw badReply(`${where} is not an object`);
  const { name, message, trace } = value;
  if (typeof name !== 'string') throw badReply(`${where}.name is not a string`);
  return {
    name,
    message: typeof message === 'string' ? message : String(message ?? ''),
    trace: typeof trace === 'string' ? trace : '',
  };
}

/** Reads a reply envelope. Throws ProtocolError GAW_ERR_BAD_RESPONSE naming what is wrong. */
export function readReply(value: unknown): LegacyReply {
  if (!isPlainObject(value) || typeof value.succ !== 'boolean') throw badReply('no boolean "succ"');
  if (!value.succ) {
    // Python Gaw's client reads these fields at the top level; its server puts them under "data".
    return { kind: 'transport-error', ...readException(isPlainObject(value.data) ? value.data : value, 'data') };
  }
  const data = value.data;
  if (!isPlainObject(data) || data._t !== 'ResponseDataType' || !isPlainObject(data._v)) {
    throw badReply('data is not a ResponseDataType');
  }
  const body = data._v;
  if (!isLegacyId(body.resp_to)) throw badReply('resp_to is not an integer or a string');
  if (typeof body.success !== 'boolean') throw badReply('success is not a boolean');
  if (body.success) return { kind: 'result', respTo: body.resp_to, payload: body.payload };
  return { kind: 'exception', respTo: body.resp_to, ...readException(body.payload, 'payload') };
}

/** True when two ids are the same value (a bigint and a number can both carry an integer). */
export function isSameId(a: LegacyId, b: LegacyId): boolean {
  if (typeof a === 'string' || typeof b === 'string' || typeof a === typeof b) return a === b;
  const big = typeof a === 'bigint' ? a : (b as bigint);
  const num = typeof a === 'number' ? a : (b as number);
  return Number.isInteger(num) && BigInt(num) === big;
}

/**
 * The JSON-RPC request for a legacy request: 'service/method' becomes 'service.method'; args become
 * positional params, kwargs named params. Throws LegacyRequestError when the call cannot be expressed
 * (both args and kwargs given, or a path without a service).
 */
export function toJsonRpc(request: LegacyRequest): JsonRpcRequest {
  const slash = request.path.lastIndexOf('/');
  if (slash <= 0 || slash === request.path.length - 1) {
    throw new LegacyRequestError(`path: ${request.path} not found`, request.id, 'KeyError');
  }
  const method = `${request.path.slice(0, slash)}.${request.path.slice(slash + 1)}`;
  const hasKwargs = Object.keys(request.kwargs).length > 0;
  if (hasKwargs && request.args.length > 0) {
    throw new LegacyRequestError(
      'a call may pass positional or keyword arguments, not both (JSON-RPC params are an array or an object)',
      request.id,
      'TypeError',
    );
  }
  const id = typeof request.id === 'string' ? request.id : String(request.id);
  return requestMessage(id, method, hasKwargs ? request.kwargs : request.args);
}

/** Python exception names for the JSON-RPC codes gaw sends, for errors that carry no name of their own. */
const pythonNames: Readonly<Record<number, string>> = {
  [rpcErrorCodes.PARSE_ERROR]: 'ValueError',
  [rpcErrorCodes.INVALID_REQUEST]: 'ValueError',
  [rpcErrorCodes.METHOD_NOT_FOUND]: 'KeyError',
  [rpcErrorCodes.INVALID_PARAMS]: 'TypeError',
  [rpcErrorCodes.INTERNAL_ERROR]: 'RuntimeError',
  [rpcErrorCodes.SERVER_ERROR]: 'Exception',
};

/**
 * The legacy reply for a dispatcher's JSON-RPC response to `request`. A result goes through
 * `encodeResult` (the registry); an error becomes a Python exception `{name, message, trace: ""}`:
 * a service's own error keeps its `data.name` and `data.message`, an unknown method reads exactly as
 * Python Gaw's ("KeyError", "path: svc/m not found"). No stack trace is ever sent.
 */
export function fromJsonRpc(
  response: unknown,
  request: LegacyRequest,
  encodeResult: (value: unknown) => unknown,
): LegacyReply {
  const respTo = request.id;
  if (!isPlainObject(response)) {
    return { kind: 'exception', respTo, name: 'RuntimeError', message: 'the server produced no reply', trace: '' };
  }
  if (isPlainObject(response.error)) {
    const { code, message, data } = response.error;
    const rpcCode = typeof code === 'number' ? code : rpcErrorCodes.INTERNAL_ERROR;
    if (rpcCode === rpcErrorCodes.METHOD_NOT_FOUND) {
      return { kind: 'exception', respTo, name: 'KeyError', message: `path: ${request.path} not found`, trace: '' };
    }
    const named = isPlainObject(data) ? data : {};
    const name =
      typeof named.name === 'string' && named.name !== '' ? named.name : (pythonNames[rpcCode] ?? 'ServiceError');
    const text = typeof named.message === 'string' ? named.message : typeof message === 'string' ? message : 'error';
    return { kind: 'exception', respTo, name, message: text, trace: '' };
  }
  try {
    return { kind: 'result', respTo, payload: encodeResult(response.result) };
  } catch (err) {
    const detail = err instanceof Error ? err.message : 'the result cannot be encoded';
    return {
      kind: 'exception',
      respTo,
      name: 'SerializeError',
      message: `the result could not be encoded: ${quote(detail, 200)}`,
      trace: '',
    };
  }
}
