// Span attributes from the OpenTelemetry semantic conventions for JSON-RPC as of v1.37 (the last
// experimental RPC conventions; https://opentelemetry.io/docs/specs/semconv/rpc/json-rpc/ has the
// newer names, which an instrumentation moves to only behind OTEL_SEMCONV_STABILITY_OPT_IN):
// rpc.system, rpc.service, rpc.method, rpc.jsonrpc.version, rpc.jsonrpc.request_id, and on a
// failure rpc.jsonrpc.error_code / error_message. Never a params value or a result.
import type { Attributes } from '@opentelemetry/api';
import type { ClientCall, ServerCall } from './interceptors.js';

/** What gaw answers a handler's unexpected error with (JSON-RPC's "Server error"). */
const serverErrorCode = -32000;

/** `host:port` (or `[v6]:port`) as the network.peer / server attributes. */
function hostAndPort(address: string, prefix: 'network.peer' | 'server'): Attributes {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port)) return {};
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { [`${prefix}.address`]: host, [`${prefix}.port`]: port };
}

export function serverAttributes(call: ServerCall): Attributes {
  const attributes: Attributes = {
    'rpc.system': 'jsonrpc',
    'rpc.service': call.service,
    'rpc.method': call.method,
    'rpc.jsonrpc.version': '2.0',
    'gaw.request_id': call.context.requestId,
    ...hostAndPort(call.peer, 'network.peer'),
  };
  // The id as a string ('' for null); none for a notification.
  if (call.id !== undefined) attributes['rpc.jsonrpc.request_id'] = call.id === null ? '' : String(call.id);
  if (call.requested !== `${call.service}.${call.method}`) attributes['rpc.method_original'] = call.requested;
  return attributes;
}

/** The JSON-RPC id of a client call is chosen per attempt by its connection, below interceptors: not here. */
export function clientAttributes(call: ClientCall): Attributes {
  const attributes: Attributes = {
    'rpc.system': 'jsonrpc',
    'rpc.service': call.service,
    'rpc.method': call.method,
    'rpc.jsonrpc.version': '2.0',
    ...(call.peer.includes(',') ? {} : hostAndPort(call.peer, 'server')),
  };
  const requestId = call.outgoing.requestId ?? call.parent?.requestId;
  if (requestId !== undefined) attributes['gaw.request_id'] = requestId;
  return attributes;
}

/**
 * A failed call's attributes and status message: a ServiceError's or RemoteError's code and
 * message; else, on the server, -32000 (what the caller is answered, unless the handler let a
 * downstream failure escape) and the error's kind; on the client, the error's kind (a timeout, a
 * connection that failed): `error.type` is its gaw code, GAW_ERR_TIMEOUT for example.
 */
export function failureAttributes(
  err: unknown,
  isServer: boolean,
): { attributes: Attributes; message: string; isUnexpected: boolean } {
  const { rpcCode, message, code, name } = (typeof err === 'object' && err !== null ? err : {}) as {
    rpcCode?: unknown;
    message?: unknown;
    code?: unknown;
    name?: unknown;
  };
  const text = typeof message === 'string' ? message : String(err);
  const kind = typeof code === 'string' ? code : typeof name === 'string' ? name : typeof err;
  if (typeof rpcCode === 'number')
    return {
      attributes: {
        'rpc.jsonrpc.error_code': rpcCode,
        'rpc.jsonrpc.error_message': text,
        'error.type': String(rpcCode),
      },
      message: text,
      isUnexpected: false,
    };
  if (!isServer) return { attributes: { 'error.type': kind }, message: text, isUnexpected: false };
  return {
    attributes: { 'rpc.jsonrpc.error_code': serverErrorCode, 'error.type': kind },
    message: text,
    isUnexpected: true,
  };
}
