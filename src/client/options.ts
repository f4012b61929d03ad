// GawClient's option bags, their defaults in one table, and the transport they describe: the GAWP/1
// pool (default) or Python Gaw 0.7's wire, always under the retry wrapper. Every key is checked,
// so a misspelt option is an error naming the nearest one, never a silent default.
import { UsageError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { EventsOption } from '../events/index.js';
import type { Logger } from '../log.js';
import { checkOptionKeys } from '../options.js';
import {
  KeyRing,
  checkCodecName,
  checkInteger,
  chooseSuite,
  defaultConnectTimeoutMs,
  postofficeDefaults,
  resolveLimits,
} from '../postoffice/index.js';
import type { CodecName, PostofficeLimits, SuiteName } from '../postoffice/index.js';
import { createCodec, defaultMaxDepth, defaultRegistry } from '../serializable/index.js';
import type { Registry } from '../serializable/index.js';
import { parseEndpoints } from './endpoints.js';
import { GawpTransport } from './gawp-transport.js';
import { LegacyTransport } from './legacy-transport.js';
import type { Endpoint } from './pool.js';
import { backoffDefaults } from './retry.js';
import { RetryingTransport } from './retrying.js';
import type { Transport } from './transport.js';
import { discoveryTransport } from './registry-transport.js';
import type { DiscoveryOptions, RegistryWatcher } from '../registry/index.js';
import { checkLookup } from './resolver.js';
import type { LookupAll } from './resolver.js';
export { checkCallOptions } from './call-options.js';
export type { BatchCall, CallOptions } from './call-options.js';
import { checkInterceptors, clientMetrics, clientTracing, joinInterceptors } from '../observe/index.js';
import type { ClientInterceptor, MetricsOption, MetricsRegistry, TracingOption } from '../observe/index.js';

export interface GawClientOptions extends Partial<PostofficeLimits> {
  host?: string;
  port?: number;
  /** Several servers (`'10.0.0.1:5555'` or `{ host, port }`): calls are spread and fail over. */
  endpoints?: readonly (string | Endpoint)[];
  /** Base64 of 16, 24 or 32 bytes; the server's secret. */
  secret?: string;
  keyId?: number;
  /** With a secret: encrypt (suite `cbc`) rather than only sign (`sign`). */
  encrypt?: boolean;
  suite?: SuiteName;
  codec?: CodecName;
  /** Offer X25519 forward secrecy (default true with a secret). */
  forwardSecrecy?: boolean;
  /** Offer GAWP/1's call-context extension: deadlines, cancel, request ids, trace context (default true). */
  callContext?: boolean;
  /** Offer GAWP/1's stream extension (with the call context; default true). */
  streams?: boolean;
  /** Connections per endpoint (default 4). */
  poolSize?: number;
  /** Open another pooled connection once the least busy one has this many calls in flight (default 64). */
  busyThreshold?: number;
  /**
   * Take an endpoint out of rotation after this many transport failures (connection lost, call
   * timed out) in a row, unless every other endpoint is out too (default 5; 0 never ejects).
   */
  ejectAfterFailures?: number;
  /** How long the first ejection lasts (default 1 s); each one in a row doubles it, up to maxEjectionMs (default 30 s). */
  ejectionMs?: number;
  maxEjectionMs?: number;
  /** The default per-call timeout, retries included (default 30 s). */
  timeoutMs?: number;
  /** -1 forever, 0 never, N at most N retries (default 3); only ever for calls that are safe to retry. */
  retries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  connectTimeoutMs?: number;
  /** Close a connection idle for this long (Python Gaw's connection_lifetime; default 30 s). */
  connectionLifetimeMs?: number;
  /** Recycle a connection this old (±10%), without failing its calls, so new servers get calls (default 0: never). */
  maxConnectionAgeMs?: number;
  /** Host names resolve to one endpoint per address, looked up again this often and after a failed connect (default 10 s; 0: only then). */
  resolveIntervalMs?: number;
  /** Looks a host name up (default node:dns `lookup(name, { all: true })`); for tests and custom discovery. */
  lookup?: LookupAll;
  /** Methods (`service.method`) safe to run twice: retried after transport failures too. */
  idempotent?: readonly string[];
  maxDepth?: number;
  registry?: Registry;
  logger?: Logger;
  /** Events on Redis (`client.events`): a URL or options (secret, registry and logger default to the client's); see docs/events.md. */
  events?: EventsOption;
  /** Calls by service name through the registry on Redis (a URL or options; not with endpoints); see docs/discovery.md. */
  discovery?: string | DiscoveryOptions;
  /**
   * `gawp` (default) or `gaw-legacy` to call a Python Gaw 0.7 server: one endpoint, calls only (no
   * notifications, batches or raw calls); retries, timeouts and aborts as for gawp.
   */
  protocol?: 'gawp' | 'gaw-legacy';
  /** Run around every call (retries included), first one outermost; see docs/observability.md. */
  interceptors?: readonly ClientInterceptor[];
  /** Prometheus metrics through prom-client: true, or `{ registry, prefix }` (`client.metrics`); see docs/observability.md. */
  metrics?: MetricsOption;
  /** A CLIENT span per call (true: the globally registered SDK's); see docs/observability.md. */
  tracing?: TracingOption;
}

/** The client's defaults, in one place. */
export const clientDefaults = Object.freeze({
  host: '127.0.0.1',
  port: 5555,
  timeoutMs: 30_000,
  retries: 3,
  poolSize: 4,
  busyThreshold: 64,
  ejectAfterFailures: 5,
  ejectionMs: 1_000,
  maxEjectionMs: 30_000,
  connectTimeoutMs: defaultConnectTimeoutMs,
  connectionLifetimeMs: 30_000,
  maxConnectionAgeMs: 0,
  resolveIntervalMs: 10_000,
  maxDepth: defaultMaxDepth,
  ...backoffDefaults,
});

const clientOptionKeys: ReadonlySet<string> = new Set([
  ...Object.keys(postofficeDefaults),
  ...[
    'host',
    'port',
    'endpoints',
    'secret',
    'keyId',
    'encrypt',
    'suite',
    'codec',
    'forwardSecrecy',
    'callContext',
    'streams',
    'poolSize',
    'busyThreshold',
    'ejectAfterFailures',
    'ejectionMs',
    'maxEjectionMs',
    'timeoutMs',
    'retries',
    'baseDelayMs',
    'maxDelayMs',
    'connectTimeoutMs',
    'connectionLifetimeMs',
    'maxConnectionAgeMs',
    'resolveIntervalMs',
    'lookup',
    'idempotent',
    'maxDepth',
    'registry',
    'logger',
    'protocol',
    'events',
    'discovery',
    'interceptors',
    'metrics',
    'tracing',
  ],
]);
/** Options the legacy wire has no use for: refused rather than ignored. */
const gawpOnly = [
  'suite',
  'codec',
  'forwardSecrecy',
  'keyId',
  'busyThreshold',
  'callContext',
  'streams',
  'ejectAfterFailures',
  'ejectionMs',
  'maxEjectionMs',
  'maxConnectionAgeMs',
  'resolveIntervalMs',
  'lookup',
  'discovery',
] as const;

export interface ResolvedClient {
  transport: Transport;
  timeoutMs: number;
  idempotent: ReadonlySet<string>;
  logger: Logger;
  interceptors: readonly ClientInterceptor[] | undefined;
  /** The endpoints (or the registry), for interceptors. */
  peer: string;
  metrics: MetricsRegistry | undefined;
  /** The `discovery` option's view of the registry. */
  watcher: RegistryWatcher | undefined;
}

/** Checks every option and builds the transport: the pool or the legacy client, under retries. */
export function resolveClientOptions(options: GawClientOptions): ResolvedClient {
  checkOptionKeys(options, clientOptionKeys, 'GawClient options');
  const d = clientDefaults;
  const protocol = options.protocol ?? 'gawp';
  if (protocol !== 'gawp' && protocol !== 'gaw-legacy')
    throw new UsageError('GAW_ERR_INVALID_OPTION', `protocol ${JSON.stringify(protocol)} is not gawp or gaw-legacy`);
  const endpoints = parseEndpoints({ host: d.host, port: d.port, ...options });
  const logger = options.logger ?? silentLogger;
  const timeoutMs = checkInteger('timeoutMs', options.timeoutMs ?? d.timeoutMs, 1);
  const retry = {
    retries: checkInteger('retries', options.retries ?? d.retries, -1),
    baseDelayMs: checkInteger('baseDelayMs', options.baseDelayMs ?? d.baseDelayMs, 0),
    maxDelayMs: checkInteger('maxDelayMs', options.maxDelayMs ?? d.maxDelayMs, 0),
  };
  const poolSize = checkInteger('poolSize', options.poolSize ?? d.poolSize, 1);
  const connectTimeoutMs = checkInteger('connectTimeoutMs', options.connectTimeoutMs ?? d.connectTimeoutMs, 1);
  const lifetimeMs = options.connectionLifetimeMs ?? d.connectionLifetimeMs;
  const connectionLifetimeMs = checkInteger('connectionLifetimeMs', lifetimeMs, 0);
  const registry = options.registry ?? defaultRegistry;
  const userInterceptors = checkInterceptors<ClientInterceptor>(options.interceptors, 'interceptors');
  const metrics = clientMetrics(options.metrics);
  let inner: Transport;
  let watcher: RegistryWatcher | undefined;
  let peer = endpoints.map((e) => `${e.host}:${e.port}`).join(',');
  if (protocol === 'gaw-legacy') {
    const unused = gawpOnly.find((key) => options[key] !== undefined);
    if (unused !== undefined)
      throw new UsageError('GAW_ERR_INVALID_OPTION', `protocol gaw-legacy has no ${unused} option (it is GAWP/1's)`);
    if (endpoints.length !== 1)
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'protocol gaw-legacy takes exactly one endpoint');
    inner = new LegacyTransport({
      host: (endpoints[0] as Endpoint).host,
      port: (endpoints[0] as Endpoint).port,
      ...(options.secret !== undefined && { secret: options.secret }),
      encrypt: options.encrypt === true,
      registry,
      timeoutMs,
      connectTimeoutMs,
      maxConnections: poolSize,
      idleTimeoutMs: connectionLifetimeMs,
      ...(options.maxPayloadBytes !== undefined && { maxPayloadBytes: options.maxPayloadBytes }),
    });
  } else {
    const limits = resolveLimits(options);
    const suite = chooseSuite(options, options.secret !== undefined);
    const codecName = options.codec ?? 'json';
    checkCodecName(codecName);
    const codec = createCodec(codecName, { registry, maxDepth: options.maxDepth ?? d.maxDepth });
    const gawp: ConstructorParameters<typeof GawpTransport>[1] = {
      poolSize,
      busyThreshold: checkInteger('busyThreshold', options.busyThreshold ?? d.busyThreshold, 1),
      ejectAfterFailures: checkInteger('ejectAfterFailures', options.ejectAfterFailures ?? d.ejectAfterFailures, 0),
      baseEjectionMs: checkInteger('ejectionMs', options.ejectionMs ?? d.ejectionMs, 1),
      maxEjectionMs: checkInteger('maxEjectionMs', options.maxEjectionMs ?? d.maxEjectionMs, 1),
      probeTimeoutMs: connectTimeoutMs,
      onEject: metrics && (() => metrics.ejected()),
      connectionLifetimeMs,
      maxConnectionAgeMs: checkInteger(
        'maxConnectionAgeMs',
        options.maxConnectionAgeMs ?? d.maxConnectionAgeMs,
        0,
        2 ** 30,
      ),
      codec,
      logger,
      resolve: {
        lookup: checkLookup(options.lookup),
        resolveIntervalMs: checkInteger(
          'resolveIntervalMs',
          options.resolveIntervalMs ?? d.resolveIntervalMs,
          0,
          2 ** 30,
        ),
        logger,
      },
      dial: {
        ...limits,
        suite,
        psk: options.secret === undefined ? undefined : new KeyRing(options.secret).get(0),
        keyId: checkInteger('keyId', options.keyId ?? 0, 0, 255),
        codec: codecName,
        forwardSecrecy: options.forwardSecrecy ?? true,
        callContext: options.callContext ?? true,
        streams: options.streams ?? true,
        connectTimeoutMs,
        logger,
      },
    };
    if (options.discovery === undefined) inner = new GawpTransport(endpoints, gawp);
    else {
      const make = (e: readonly Endpoint[]) => new GawpTransport(e, gawp);
      ({ transport: inner, watcher, peer } = discoveryTransport(options.discovery, options, logger, codec, make));
    }
  }
  const builtIns = [clientTracing(options.tracing), metrics?.interceptor].filter((one) => one !== undefined);
  return {
    transport: new RetryingTransport(inner, { ...retry, onRetry: metrics && ((err) => metrics.retried(err)) }, logger),
    timeoutMs,
    idempotent: new Set(options.idempotent ?? []),
    logger,
    interceptors: joinInterceptors(builtIns, userInterceptors), // tracing outermost, then metrics
    peer,
    metrics: metrics?.registry,
    watcher,
  };
}
