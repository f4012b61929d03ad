// The client: pooled, multiplexed, retrying calls to gaw servers. Reached only through this file.
export { GawClient } from './client.js';
export { parseEndpoint } from './endpoints.js';
export type { BatchCall, BatchResult, CallOptions, GawClientOptions } from './client.js';
export type { Endpoint } from './pool.js';
export type { Remote, ServiceProxyOptions } from './proxy.js';
export { backoffDelayMs, neverReachedHandler, shouldRetry } from './retry.js';
