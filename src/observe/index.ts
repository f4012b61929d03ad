// Observability: interceptors (the hook the server and the client run each call through), and
// metrics and traces built as interceptors, their optional libraries loaded only when asked for.
// Reached only through this file. Imports neither the server nor the client.
export { checkInterceptors, joinInterceptors, runChain, splitMethod } from './interceptors.js';
export type { ClientCall, ClientInterceptor, ServerCall, ServerInterceptor } from './interceptors.js';
export { ServerMetrics, serverMetrics } from './server-metrics.js';
export type { ServerMetricsSource } from './server-metrics.js';
export { ClientMetrics, clientMetrics } from './client-metrics.js';
export { durationBuckets, errorType } from './duration-histogram.js';
export { loadPromClient } from './prom.js';
export type { MetricsOption, MetricsRegistry } from './prom.js';
export { clientTracing, serverTracing } from './tracing.js';
export type { TracerProviderLike, TracingOption } from './tracing-option.js';
