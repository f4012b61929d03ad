// The jsonrpc module: JSON-RPC 2.0 message shapes, validation and error codes, shared by the
// server, the client and the HTTP bridge. It works on plain decoded data and never on bytes.
export { rpcErrorCodes, rpcErrorMessages, quote, maxQuotedChars } from './codes.js';
export type { RpcErrorCode } from './codes.js';
export {
  requestMessage,
  notificationMessage,
  successResponse,
  errorResponse,
  isValidId,
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
  JsonRpcNotification,
  JsonRpcErrorObject,
  JsonRpcSuccess,
  JsonRpcFailure,
  JsonRpcResponse,
  ParsedResponse,
} from './message.js';
