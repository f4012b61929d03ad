// The jsonrpc module: JSON-RPC 2.0 message shapes, validation and error codes, shared by the
// server, the client and the HTTP bridge. It works on plain decoded data and never on bytes.
export { rpcErrorCodes, quote } from './codes.js';
export { requestFromText, requestText, responseFromText, successText } from './json-text.js';
export {
  requestMessage,
  notificationMessage,
  successResponse,
  errorResponse,
  isPlainObject,
  readId,
  requestProblem,
  isNotification,
  parseResponse,
  parseErrorResponse,
  repairReply,
} from './message.js';
export type {
  JsonRpcId,
  JsonRpcParams,
  JsonRpcRequest,
  JsonRpcErrorObject,
  ParsedResponse,
} from './message.js';
export { createProxy, createServicesProxy } from './proxy.js';
export type { InvokeWith, ProxyDefaults, RemoteMethodOf, RemoteOf } from './proxy.js';
