// The server side: services, dispatch, the TCP server and the HTTP bridge. Reached only through
// this file.
export { GawServer, serverDefaults } from './server.js';
export type {
  GawServerOptions,
  HttpHandlerMountOptions,
  HttpOptions,
  HttpUpgradeMountOptions,
  LegacyOptions,
} from './server.js';
export { Dispatcher } from './dispatch.js';
export type { DispatcherOptions } from './dispatch.js';
export { describeService, entrypoint, isServiceClass, service } from './service.js';
export type { EntrypointOptions, MethodDescription, ServiceDescription, ServiceOptions } from './service.js';
export { HttpBridge } from './http-bridge.js';
export { MetricsServer } from './metrics-server.js';
export type { MetricsServerOptions } from './metrics-server.js';
export { parseParameterPieces } from './params.js';
export { otherLoadedCopies, thisCopy } from './loaded-copies.js';
export type { HttpBridgeOptions } from './http-bridge.js';
export { createHttpHandler } from './http-handler.js';
export type { HttpRequestHandler } from './http-handler.js';
export type { HttpHandlerOptions } from './http-options.js';
export { WebSocketHub } from './ws-hub.js';
export type { WebSocketHubOptions } from './ws-hub.js';
export { createHttpUpgradeHandler } from './ws-mount.js';
export type { HttpUpgradeHandler, HttpUpgradeOptions } from './ws-mount.js';
export type { WebSocketOptions } from './ws-options.js';
