// The HTTP bridge and the legacy Python Gaw listener that GawServer.listen() starts beside its GAWP
// port, and the handlers mounted in an application's own HTTP server, built from the server's options: which dispatcher they call, their defaults (loopback, a
// free port), and what they inherit (registry, depth, frame cap, the legacy secret and suite).
import type { Logger } from '../log.js';
import { LegacyListener } from '../legacy/index.js';
import type { SuiteName } from '../postoffice/index.js';
import { defaultRegistry } from '../serializable/index.js';
import type { Dispatcher } from './dispatch.js';
import { HttpBridge } from './http-bridge.js';
import { mountOptions } from './server-options.js';
import type { GawServerOptions, HttpHandlerMountOptions, HttpOptions, LegacyOptions } from './server-options.js';
import type { HttpHandlerOptions } from './http-options.js';
import type { WebSocketHub } from './ws-hub.js';
import type { MetricsRegistry } from '../observe/index.js';

/** What the listeners share with their server. */
export interface ListenerContext {
  dispatcher: Dispatcher;
  logger: Logger;
  closeTimeoutMs: number;
  suite: SuiteName;
  webSockets: WebSocketHub;
  /** The `metrics` Registry, served by the bridge at GET /metrics. */
  metrics: MetricsRegistry | undefined;
}

export function bridgeFor(o: GawServerOptions, options: HttpOptions, context: ListenerContext): HttpBridge {
  const { isOpen: _isOpen, ...http } = options;
  return new HttpBridge({
    ...http,
    dispatch: (message, origin) => context.dispatcher.dispatchEager(message, origin),
    host: http.host ?? '127.0.0.1',
    port: http.port ?? 0,
    registry: o.registry ?? defaultRegistry,
    logger: context.logger,
    ...(o.maxDepth !== undefined && { maxDepth: o.maxDepth }),
    closeTimeoutMs: context.closeTimeoutMs,
    webSockets: context.webSockets,
    metrics: context.metrics,
  });
}

export function legacyFor(o: GawServerOptions, options: LegacyOptions, context: ListenerContext): LegacyListener {
  const secret = options.secret ?? (typeof o.secret === 'string' ? o.secret : o.secret?.[0]);
  return new LegacyListener({
    dispatch: (message) => context.dispatcher.dispatch(message),
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    ...(secret !== undefined && { secret }),
    // Python Gaw encrypts whenever it has a secret; a server that only signs does not.
    encrypt: options.encrypt ?? (secret !== undefined && context.suite !== 'sign'),
    registry: o.registry ?? defaultRegistry,
    logger: context.logger,
    ...(o.maxPayloadBytes !== undefined && { maxPayloadBytes: o.maxPayloadBytes }),
    closeTimeoutMs: context.closeTimeoutMs,
  });
}

/** The options of a handler mounted in the application's own HTTP server (httpHandler(), httpUpgradeHandler()). */
export function mountFor(
  options: HttpHandlerMountOptions,
  what: string,
  hasSecret: boolean,
  o: GawServerOptions,
  context: ListenerContext,
): HttpHandlerOptions {
  return mountOptions(options, what, {
    hasSecret,
    dispatch: (message, origin) => context.dispatcher.dispatchEager(message, origin),
    registry: o.registry ?? defaultRegistry,
    logger: context.logger,
    maxDepth: o.maxDepth,
  });
}

/** The fields of the "gaw server listening" line. */
export function listeningFields(f: {
  listener: { address: { address: string; port: number } };
  suite: SuiteName;
  codecs: readonly string[];
  services: readonly { name: string; methods: ReadonlyMap<string, unknown> }[];
  bridge: { address: { address: string; port: number } } | undefined;
  legacy: { address: { address: string; port: number } } | undefined;
}): Record<string, unknown> {
  const at = (a: { address: string; port: number }) => `${a.address}:${a.port}`;
  return {
    address: at(f.listener.address),
    suite: f.suite,
    codecs: f.codecs,
    services: Object.fromEntries(f.services.map((s) => [s.name, [...s.methods.keys()]])),
    ...(f.bridge && { http: at(f.bridge.address) }),
    ...(f.legacy && { legacy: at(f.legacy.address) }),
  };
}
