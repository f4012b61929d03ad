// GawServer's options: the server's own, the HTTP bridge's and the legacy listener's. Defaults
// and validation stay in server.ts; the bridge's own options are in http-bridge.ts.
import type { EventsOption } from '../events/index.js';
import type { DiscoveryOptions } from '../registry/index.js';
import type { Logger } from '../log.js';
import { postofficeDefaults } from '../postoffice/index.js';
import type { CodecName, PostofficeLimits, SuiteName } from '../postoffice/index.js';
import type { Registry } from '../serializable/index.js';
import type { HttpBridgeOptions } from './http-bridge.js';
import { UsageError } from '../errors.js';
import type { HttpHandlerOptions } from './http-options.js';
import { checkInterceptors, joinInterceptors } from '../observe/index.js';
import type { MetricsOption, ServerInterceptor, TracingOption } from '../observe/index.js';
import type { DispatcherOptions } from './dispatch-options.js';
import type { WebSocketOptions } from './ws-options.js';

/** The HTTP bridge's options (see HttpBridgeOptions; dispatch, registry and logger are the server's). */
export interface HttpOptions
  extends Omit<
    HttpBridgeOptions,
    'dispatch' | 'registry' | 'isRaw' | 'logger' | 'maxDepth' | 'closeTimeoutMs' | 'webSockets' | 'metrics'
  > {
  /** Required as `Authorization: Bearer <token>` when set. */
  token?: string;
  /** Serve the bridge without a token even though the server has a secret. */
  isOpen?: boolean;
}

/** server.httpHandler()'s options: the handler's, less what the server supplies. */
export interface HttpHandlerMountOptions
  extends Omit<HttpHandlerOptions, 'dispatch' | 'registry' | 'isRaw' | 'maxDepth'> {
  /** Serve without a token even though the server has a secret. */
  isOpen?: boolean;
}

/** server.httpUpgradeHandler()'s options: a mount's, and the WebSocket limits. */
export interface HttpUpgradeMountOptions extends HttpHandlerMountOptions {
  websocket?: true | WebSocketOptions;
}

export interface LegacyOptions {
  /** The port for Python Gaw 0.7 clients; never the GAWP port. */
  port?: number;
  host?: string;
  /** Python Gaw's key; default the server's secret (key id 0). */
  secret?: string;
  /** Default: true when there is a secret, unless the server only signs (suite `sign`). */
  encrypt?: boolean;
}

export interface GawServerOptions extends Partial<PostofficeLimits> {
  host?: string;
  /** Default 5555, Python Gaw's habit; 0 picks a free port. */
  port?: number;
  /** Base64 of 16, 24 or 32 bytes, or secrets by key id for rotation. Absent: suite `none`. */
  secret?: string | Readonly<Record<number, string>>;
  /** With a secret: encrypt (suite `cbc`) rather than only sign (suite `sign`). */
  encrypt?: boolean;
  /** Choose the suite outright (e.g. `secretbox`); must agree with `secret`. */
  suite?: SuiteName;
  /** Codecs accepted (default both). */
  codecs?: readonly CodecName[];
  requireForwardSecrecy?: boolean;
  maxUnauthenticated?: number;
  maxConnections?: number;
  /**
   * Handlers running at once per connection (default 256): a request or a notification takes one
   * slot, a batch one per element. Past it messages wait their turn, in order (see maxWaitingBytes).
   */
  maxInFlight?: number;
  /**
   * Bytes of messages per connection waiting for an in-flight slot, each charged 16 bytes more
   * (default 16 MiB; 0: none wait). Past it requests are refused with -32002 (not run; GawClient
   * retries them). The server keeps reading either way, so rpc.ping is answered however busy it is.
   */
  maxWaitingBytes?: number;
  maxBatch?: number;
  /** A handler still running after this gets -32003 (default: no limit). */
  handlerTimeoutMs?: number;
  /** Send stacks of thrown errors to clients (default false: never in production). */
  exposeStack?: boolean;
  /**
   * Answer a RemoteError a handler lets escape (a call it made failed) with that error's own code,
   * message and data (default true); false: -32000 like any other error.
   */
  passRemoteErrors?: boolean;
  /** Speak GAWP/1's call-context extension with clients that offer it (deadlines, cancel, ids; default true). */
  callContext?: boolean;
  /** Speak GAWP/1's stream extension (async generator methods streamed with flow control; default true). */
  streams?: boolean;
  /** close() waits this long for in-flight calls (GAWP, HTTP and legacy) before closing connections (default 10 s). */
  closeTimeoutMs?: number;
  /**
   * Send CLOSE on a connection this old (±10%; default 0: never): the client moves new calls to a
   * new connection, perhaps to a new instance, and the calls in flight finish (gRPC's max_connection_age).
   */
  maxConnectionAgeMs?: number;
  /** Nesting depth limit for decoded values (default 64). */
  maxDepth?: number;
  registry?: Registry;
  logger?: Logger;
  http?: HttpOptions;
  /** Events on Redis: a URL or options (secret, registry and logger default to the server's); see docs/events.md. */
  events?: EventsOption;
  /** Register with the registry on Redis (a URL, or options with `advertise`); see docs/discovery.md. */
  discovery?: string | DiscoveryOptions;
  /**
   * Run around every request, first one outermost (GAWP, HTTP bridge; not the legacy listener's
   * calls): they may time, log, reject (throw a ServiceError), change params or the result.
   */
  interceptors?: readonly ServerInterceptor[];
  /**
   * Prometheus metrics through prom-client (an optional peer dependency): true for a Registry of
   * the server's own (`server.metrics`), or `{ registry, prefix }`; see docs/observability.md.
   */
  metrics?: MetricsOption;
  /** A SERVER span per handled request (true: the globally registered SDK's); see docs/observability.md. */
  tracing?: TracingOption;
  /** Also serve Python Gaw 0.7's wire protocol on its own port (off unless set; see the README's caveats). */
  legacy?: LegacyOptions;
}

/** The handler's option keys a mount may set (HttpHandlerMountOptions). */
const handlerKeys = [
  'token',
  'allowedHosts',
  'allowedOrigins',
  'corsOrigins',
  'maxBodyBytes',
  'bodyTimeoutMs',
  'maxInFlight',
  'logger',
  'isOpen',
] as const;

/** Every key each option bag takes, so a misspelt one is refused with the nearest (src/options.ts). */
/** The server's defaults, in one place (the postoffice's own limits are postofficeDefaults). */
export const serverDefaults = Object.freeze({
  host: '127.0.0.1',
  /** Python Gaw's habit. */
  port: 5555,
  codecs: Object.freeze(['json', 'msgpack'] as const),
  closeTimeoutMs: 10_000,
});

export const serverOptionKeys = Object.freeze({
  server: new Set<string>([
    ...Object.keys(postofficeDefaults),
    'host',
    'port',
    'secret',
    'encrypt',
    'suite',
    'codecs',
    'requireForwardSecrecy',
    'maxUnauthenticated',
    'maxConnections',
    'maxInFlight',
    'maxWaitingBytes',
    'maxBatch',
    'handlerTimeoutMs',
    'exposeStack',
    'passRemoteErrors',
    'callContext',
    'streams',
    'closeTimeoutMs',
    'maxConnectionAgeMs',
    'maxDepth',
    'registry',
    'logger',
    'interceptors',
    'metrics',
    'tracing',
    'http',
    'legacy',
    'events',
    'discovery',
  ]),
  http: new Set<string>([
    ...handlerKeys.filter((key) => key !== 'logger'),
    'host',
    'port',
    'maxConnections',
    'headersTimeoutMs',
    'keepAliveTimeoutMs',
    'console',
    'websocket',
  ]),
  handler: new Set<string>(handlerKeys),
  legacy: new Set<string>(['port', 'host', 'secret', 'encrypt']),
});

/** What a server gives each mounted handler (httpHandler(), httpUpgradeHandler()). */
export interface MountContext extends Pick<HttpHandlerOptions, 'dispatch' | 'registry'> {
  hasSecret: boolean;
  logger: Logger;
  maxDepth: number | undefined;
}

/** A mount's handler options: its own, with the server's dispatch, registry, logger and depth. */
export function mountOptions(options: HttpHandlerMountOptions, what: string, server: MountContext): HttpHandlerOptions {
  const { isOpen, ...rest } = options;
  if (server.hasSecret && rest.token === undefined && !isOpen) {
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `${what} needs a token when the server has a secret (or isOpen: true to serve it without one)`,
    );
  }
  return {
    ...rest,
    dispatch: server.dispatch,
    logger: server.logger,
    ...(server.registry !== undefined && { registry: server.registry }),
    ...(server.maxDepth !== undefined && { maxDepth: server.maxDepth }),
  };
}

/** The Dispatcher's options from the server's: the metrics interceptor (when on) outermost. */
export function dispatcherOptions(
  options: GawServerOptions,
  registry: Registry,
  logger: Logger,
  builtIns: readonly (ServerInterceptor | undefined)[],
): DispatcherOptions {
  // The built-ins (tracing outermost, then metrics) run around the user's interceptors.
  const interceptors = joinInterceptors(
    builtIns.filter((one) => one !== undefined),
    checkInterceptors<ServerInterceptor>(options.interceptors, 'interceptors'),
  );
  return {
    registry,
    logger,
    ...(options.exposeStack !== undefined && { exposeStack: options.exposeStack }),
    ...(options.passRemoteErrors !== undefined && { passRemoteErrors: options.passRemoteErrors }),
    ...(options.handlerTimeoutMs !== undefined && { handlerTimeoutMs: options.handlerTimeoutMs }),
    ...(options.maxBatch !== undefined && { maxBatch: options.maxBatch }),
    ...(interceptors !== undefined && { interceptors }),
  };
}

/** The HTTP bridge of a server with a secret needs a token, unless it is opened on purpose. */
export function checkBridgeToken(options: GawServerOptions, hasSecret: boolean): void {
  if (options.http && hasSecret && options.http.token === undefined && !options.http.isOpen)
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      'the HTTP bridge needs http.token when the server has a secret (or http.isOpen: true to serve it without one)',
    );
}
