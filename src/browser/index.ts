// gaw/browser: the JSON-RPC client for web pages, with no Node built-ins. Call a gaw server
// through its HTTP bridge over POST (fetch) or a reconnecting WebSocket; typed proxies, batches,
// timeouts and AbortSignal, streams (WebSocket); values cross with the class-tag registry (the
// same wire forms as Node's); events the server pushes arrive as callbacks. See docs/browser.md.
export { GawBrowserClient } from './client.js';
export type {
  BatchCall,
  BatchResult,
  BrowserCallOptions,
  BrowserClientOptions,
  Remote,
  RemoteMethod,
  ServiceProxyOptions,
} from './client.js';
export type { BrowserStream } from './stream.js';
export type { NotificationListener } from './transport.js';
export type { WebSocketConstructor, WebSocketLike, WebSocketOptions } from './ws-transport.js';
export { Registry, defaultRegistry, register, serializable } from '../serializable/portable.js';
export type { RegisterOptions, RegistryOptions, SerializableDecorator } from '../serializable/portable.js';
export {
  AbortError,
  ConnectionError,
  GawError,
  ProtocolError,
  RemoteError,
  SerializationError,
  TimeoutError,
  UsageError,
  errorCodes,
  hasCode,
} from '../errors.js';
export type { ErrorCode } from '../errors.js';
export { rpcErrorCodes } from '../jsonrpc/index.js';
export type { JsonRpcParams } from '../jsonrpc/index.js';
