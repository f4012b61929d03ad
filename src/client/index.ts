// The client: pooled, multiplexed, retrying calls to gaw servers. Reached only through this file.
export { GawClient } from './client.js';
export { parseEndpoint } from './endpoints.js';
export type { BatchResult } from './client.js';
export { clientDefaults } from './options.js';
export type { BatchCall, CallOptions, GawClientOptions } from './options.js';
export type { Attempt, Outcome, OutgoingBatchCall, OutgoingCall, Transport, TransportFeatures } from './transport.js';
export { RetryingTransport } from './retrying.js';
export type { RetryOptions } from './retrying.js';
export { callTimeout } from './ready-call.js';
export type { Endpoint } from './pool.js';
export type { Remote, RemoteMethod, ServiceProxyOptions } from './proxy.js';
export { backoffDelayMs, neverReachedHandler, shouldRetry } from './retry.js';
