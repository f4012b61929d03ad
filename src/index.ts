// The public API of gaw. Everything a user imports comes from here; internal modules are reached
// only through their own index files.
export * from './errors.js';
export type { Logger, LogFn } from './log.js';
export {
  GawServer,
  Dispatcher,
  HttpBridge,
  MetricsServer,
  WebSocketHub,
  createHttpHandler,
  createHttpUpgradeHandler,
  describeService,
  entrypoint,
  isServiceClass,
  service,
} from './server/index.js';
export type {
  DispatcherOptions,
  EntrypointOptions,
  GawServerOptions,
  HttpBridgeOptions,
  HttpHandlerMountOptions,
  HttpHandlerOptions,
  HttpOptions,
  HttpRequestHandler,
  HttpUpgradeHandler,
  HttpUpgradeMountOptions,
  HttpUpgradeOptions,
  LegacyOptions,
  MetricsServerOptions,
  WebSocketHubOptions,
  WebSocketOptions,
  MethodDescription,
  ServiceDescription,
  ServiceOptions,
} from './server/index.js';
export { GawClient, parseEndpoint } from './client/index.js';
export type {
  BatchCall,
  BatchResult,
  CallOptions,
  Endpoint,
  GawClientOptions,
  Remote,
  ServiceProxyOptions,
} from './client/index.js';
export { Registry, createCodec, defaultRegistry, register, serializable } from './serializable/index.js';
export type { Codec, CodecName, RegisterOptions } from './serializable/index.js';
export { KeyRing, parseSecret, postofficeDefaults, suites } from './postoffice/index.js';
export type { PostofficeLimits, SuiteName } from './postoffice/index.js';
export { rpcErrorCodes } from './jsonrpc/index.js';
export { LegacyClient, LegacyListener } from './legacy/index.js';
export type { LegacyCallOptions, LegacyClientOptions, LegacyListenerOptions } from './legacy/index.js';
export { GawEvents, on } from './events/index.js';
export type {
  DeliveryMeta,
  EventHandler,
  EventMeta,
  EventsOption,
  EventsStats,
  GawEventsOptions,
  OnOptions,
  RefusalReason,
  SubscribeOptions,
  Subscription,
} from './events/index.js';
export type { DiscoveryOptions, Instance, RegistryState, WatchEvent, WatchEventType } from './registry/index.js';
export { callContext, runAsRoot } from './context.js';
export type { CallContext } from './context.js';
export type { MetricsOption, MetricsRegistry } from './observe/index.js';
export type {
  ClientCall,
  ClientInterceptor,
  ServerCall,
  ServerInterceptor,
  TracerProviderLike,
  TracingOption,
} from './observe/index.js';
