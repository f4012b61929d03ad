// The variants of the instruction-count benchmark: what bench/instructions.ts names in its goals
// and what bench/instructions-child.ts runs. A module of its own so that importing the table runs
// no benchmark.
import type { GawClientOptions, GawServerOptions } from '../src/index.js';

export interface InstructionVariant {
  /** What the report calls it. */
  label: string;
  server?: GawServerOptions;
  client?: Omit<GawClientOptions, 'port'>;
  /** The bare framed JSON-RPC of limit-wire.ts instead of gaw (server and client options unused). */
  isLimit?: boolean;
  /**
   * Over the HTTP bridge's WebSocket or gaw's handler in Fastify, against the minimal peer of each
   * (a `ws` JSON-RPC echo server, a Fastify JSON-RPC route), with the same client for both sides.
   */
  peer?: 'ws-gaw' | 'ws-echo' | 'fastify-gaw' | 'fastify' | 'post-gaw' | 'node-http';
  /**
   * Tracing on both sides: `no-sdk` is `tracing: true` with nothing registered; `sdk` a
   * BasicTracerProvider with a SimpleSpanProcessor into an InMemorySpanExporter (emptied every 1024
   * calls), no context manager; `sdk-als` the same with AsyncLocalStorageContextManager registered.
   */
  tracing?: 'no-sdk' | 'sdk' | 'sdk-als';
}

/** The variants the goals compare; add one here and a goal in instructions.ts. */
export const instructionVariants: Readonly<Record<string, InstructionVariant>> = {
  'ctx-off': { label: 'call-context extension off (callContext: false)', client: { callContext: false } },
  'ctx-on': { label: 'call-context extension on (the default)' },
  msgpack: { label: 'gaw with the msgpack codec (call context on)', client: { codec: 'msgpack' } },
  'ws-gaw': { label: 'gaw, WebSocket on the bridge (64 in flight on one socket)', peer: 'ws-gaw' },
  'ws-echo': { label: 'a minimal ws JSON-RPC server (64 in flight on one socket)', peer: 'ws-echo' },
  'fastify-gaw': { label: 'gaw httpHandler() in Fastify (64 keep-alive connections)', peer: 'fastify-gaw' },
  'post-gaw': { label: 'gaw, the HTTP bridge POST /api (64 keep-alive connections)', peer: 'post-gaw' },
  'node-http': { label: 'a minimal node:http JSON-RPC handler (64 keep-alive connections)', peer: 'node-http' },
  fastify: { label: 'a minimal Fastify JSON-RPC route (64 keep-alive connections)', peer: 'fastify' },
  'metrics-on': {
    label: 'gaw with metrics on, server and client (prom-client Registry, call context on)',
    server: { metrics: true },
    client: { metrics: true },
  },
  'metrics-server': { label: 'gaw with metrics on the server only', server: { metrics: true } },
  'metrics-client': { label: 'gaw with metrics on the client only', client: { metrics: true } },
  intercepted: {
    label: 'gaw with one no-op interceptor on each side (the hook metrics use)',
    server: { interceptors: [(_call, next) => next()] },
    client: { interceptors: [(_call, next) => next()] },
  },
  'trace-off': { label: 'tracing off (the default; the same as ctx-on)' },
  'trace-no-sdk': { label: 'tracing: true on both sides, no OpenTelemetry SDK registered', tracing: 'no-sdk' },
  'trace-sdk': { label: 'tracing with the SDK and an in-memory exporter (no context manager)', tracing: 'sdk' },
  'trace-sdk-als': { label: 'tracing, SDK, in-memory exporter, AsyncLocalStorage context manager', tracing: 'sdk-als' },
  limit: { label: 'the limit: bare length-prefixed JSON-RPC on net (bench/limit-wire.ts)', isLimit: true },
};
