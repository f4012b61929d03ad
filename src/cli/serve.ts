// `gaw <module>`: loads the module's services, builds a GawServer (and its HTTP bridge) from the
// options, listens, logs one startup line, and on SIGINT/SIGTERM closes gracefully (a second
// signal exits at once). Module loading is in services.ts; the server itself in src/server.
import type { AddressInfo } from 'node:net';
import { GawServer, MetricsServer, serverDefaults } from '../server/index.js';
import type { GawServerOptions, HttpOptions } from '../server/index.js';
import { createCliLogger } from './logger.js';
import type { LogFormat } from './logger.js';
import {
  exitCodes,
  logOptions,
  readBoolean,
  readHttpToken,
  readInteger,
  readJson,
  readSecret,
  readString,
  securityOptions,
  usage,
} from './options.js';
import type { Argv, Env } from './options.js';
import { constructorArguments, loadServiceModule, selectServices } from './services.js';
import { isWatchingParent, lifetimeOptions, waitForStopSignal } from './signals.js';
import { exposureOptions, exposureWarning, refuseExposure, serverExposures } from './exposure.js';
import { isFromEnv } from './env-options.js';
import { httpFlags, readHttpFlags } from './http-flags.js';
import { loadInterceptors, observeOptions } from './observe-options.js';
import { readServeDiscovery, registryServeOptions } from './registry-options.js';
import { isMetricsOn, isMetricsPortFlag, metricsOptions, readMetricsPort } from './metrics-options.js';

/** What a caller embedding the CLI (examples/demo.js) learns once the server listens. */
export interface ListeningInfo {
  readonly address: AddressInfo;
  readonly httpAddress?: AddressInfo | undefined;
  readonly suite: string;
  readonly services: Readonly<Record<string, readonly string[]>>;
}

export interface ServeRuntime {
  env: Env;
  cwd: string;
  onListening?: ((info: ListeningInfo) => void) | undefined;
}

const maxMs = 2 ** 31 - 1;

/** Limits, each an integer option mapped to a GawServerOptions key. */
const limitOptions = {
  'max-payload-bytes': {
    key: 'maxPayloadBytes',
    min: 1,
    max: 0xffff_ffff - 128,
    describe: 'largest message payload (default 16 MiB)',
  },
  'max-in-flight': {
    key: 'maxInFlight',
    min: 1,
    max: 1_000_000,
    describe: 'requests running at once per connection (default 256)',
  },
  'max-batch': { key: 'maxBatch', min: 1, max: 1_000_000, describe: 'most requests in one batch (default 100)' },
  'max-connections': { key: 'maxConnections', min: 1, max: 1_000_000, describe: 'most open connections' },
  'handshake-timeout-ms': {
    key: 'handshakeTimeoutMs',
    min: 1,
    max: maxMs,
    describe: 'a handshake must finish within this (default 10000)',
  },
  'idle-timeout-ms': {
    key: 'idleTimeoutMs',
    min: 0,
    max: maxMs,
    describe: 'close idle connections after this (default 120000; 0 never)',
  },
  'handler-timeout-ms': {
    key: 'handlerTimeoutMs',
    min: 0,
    max: maxMs,
    describe: 'a call still running after this gets error -32003 (default: no limit)',
  },
  'close-timeout-ms': {
    key: 'closeTimeoutMs',
    min: 0,
    max: maxMs,
    describe: 'on stop, wait this long for in-flight calls (default 10000)',
  },
  'max-connection-age-ms': {
    key: 'maxConnectionAgeMs',
    min: 0,
    max: 2 ** 30,
    describe: 'send CLOSE on a connection this old (±10%) so clients move to new ones (default 0: never)',
  },
} as const;

export const serveOptions = {
  service: {
    type: 'string',
    array: true,
    group: 'Services:',
    describe: 'serve only this service (repeatable); default: every exported service',
  },
  args: { type: 'string', group: 'Services:', describe: 'constructor arguments as a JSON array, e.g. \'["hello!"]\'' },
  kwargs: {
    type: 'string',
    group: 'Services:',
    describe: 'constructor arguments by parameter name as a JSON object, e.g. \'{"hello": "hello!"}\'',
  },
  host: {
    type: 'string',
    group: 'Listening:',
    defaultDescription: '127.0.0.1',
    describe: 'the TCP address to listen on',
  },
  port: {
    type: 'string',
    group: 'Listening:',
    defaultDescription: String(serverDefaults.port),
    describe: 'the TCP port (0 picks a free one; a taken port is an error)',
  },
  codec: {
    type: 'string',
    group: 'Listening:',
    choices: ['json', 'msgpack'],
    describe: 'accept only this codec (default: both)',
  },
  ...securityOptions,
  'require-forward-secrecy': {
    type: 'boolean',
    group: 'Security:',
    describe: 'refuse clients that do not offer X25519 forward secrecy',
  },
  ...exposureOptions,
  'http-port': {
    type: 'string',
    group: 'HTTP bridge:',
    describe: 'serve JSON-RPC over HTTP on POST /api at this port (0 picks a free one)',
  },
  'http-host': {
    type: 'string',
    group: 'HTTP bridge:',
    defaultDescription: '127.0.0.1',
    describe: 'the bridge address (it is plain HTTP, not encrypted)',
  },
  ...httpFlags('HTTP bridge:'),
  'legacy-port': {
    type: 'string',
    group: 'Python Gaw 0.7:',
    describe: 'also serve Python Gaw 0.7 clients on this port (no replay protection: see the README)',
  },
  'legacy-host': {
    type: 'string',
    group: 'Python Gaw 0.7:',
    defaultDescription: '127.0.0.1',
    describe: 'the legacy listener address',
  },
  ...Object.fromEntries(
    Object.entries(limitOptions).map(([name, o]) => [name, { type: 'string', group: 'Limits:', describe: o.describe }]),
  ),
  ...registryServeOptions,
  ...observeOptions,
  ...metricsOptions,
  ...logOptions,
  ...lifetimeOptions,
} as const;

/** Reads and validates every serve option into GawServerOptions (without the logger). */
export function readServeOptions(argv: Argv): GawServerOptions {
  const options: GawServerOptions = {
    host: readString(argv, 'host') ?? '127.0.0.1',
    port: readInteger(argv, 'port', 0, 65535) ?? serverDefaults.port,
  };
  const secret = readSecret(argv);
  if (secret !== undefined) options.secret = secret;
  if (readBoolean(argv, 'encrypt')) {
    if (secret === undefined)
      throw usage('--encrypt needs a secret: --secret-file, GAW_SECRET or --secret (make one with `gaw keygen`)');
    options.encrypt = true;
  }
  const suite = readString(argv, 'suite');
  if (suite !== undefined) options.suite = suite as NonNullable<GawServerOptions['suite']>;
  const codec = readString(argv, 'codec');
  if (codec !== undefined) options.codecs = [codec as 'json' | 'msgpack'];
  if (readBoolean(argv, 'require-forward-secrecy')) options.requireForwardSecrecy = true;
  const limits = options as Record<string, unknown>;
  for (const [name, o] of Object.entries(limitOptions)) {
    const value = readInteger(argv, name, o.min, o.max);
    if (value !== undefined) limits[o.key] = value;
  }
  const http = readHttpOptions(argv, secret !== undefined);
  if (http !== undefined) options.http = http;
  if (isMetricsOn(argv)) options.metrics = true;
  const legacyPort = readInteger(argv, 'legacy-port', 0, 65535);
  if (legacyPort !== undefined)
    options.legacy = { port: legacyPort, host: readString(argv, 'legacy-host') ?? '127.0.0.1' };
  else if (argv['legacy-host'] !== undefined && !isFromEnv(argv, 'legacy-host'))
    throw usage('--legacy-host needs --legacy-port (the legacy listener is off without it)');
  const discovery = readServeDiscovery(argv, options.host as string);
  if (discovery !== undefined) options.discovery = discovery;
  return options;
}

function readHttpOptions(argv: Argv, hasSecret: boolean): HttpOptions | undefined {
  const port = readInteger(argv, 'http-port', 0, 65535);
  if (port === undefined) {
    for (const name of Object.keys(serveOptions).filter((key) => key.startsWith('http-') && key !== 'http-port')) {
      // Only flags: a GAW_HTTP_TOKEN exported for `gaw call` must not stop a server without a bridge.
      if (argv[name] !== undefined && argv[name] !== false && !isFromEnv(argv, name) && !isMetricsPortFlag(argv, name))
        throw usage(`--${name} needs --http-port (the HTTP bridge is off without it)`);
    }
    return undefined;
  }
  const http: HttpOptions = { port, host: readString(argv, 'http-host') ?? '127.0.0.1' };
  const token = readHttpToken(argv);
  if (token !== undefined) http.token = token;
  if (readBoolean(argv, 'http-open')) http.isOpen = true;
  if (hasSecret && token === undefined && http.isOpen !== true) {
    throw usage(
      'the HTTP bridge needs a bearer token when the server has a secret: --http-token-file, GAW_HTTP_TOKEN or --http-token (or --http-open to serve it without one)',
    );
  }
  Object.assign(http, readHttpFlags(argv));
  return http;
}

/** Runs `gaw <module>` until a signal stops it; resolves to the exit code. Usage errors throw. */
export async function runServe(argv: Argv, runtime: ServeRuntime): Promise<number> {
  const modulePath = readString(argv, 'module') ?? '';
  const options = readServeOptions(argv);
  refuseExposure(serverExposures(options), readBoolean(argv, 'insecure'));
  const metricsPort = readMetricsPort(argv, {
    ...{ hasSecret: options.secret !== undefined, httpToken: options.http?.token },
    isInsecure: readBoolean(argv, 'insecure'),
  });
  const args = readJson(argv, 'args', 'array') as unknown[] | undefined;
  const kwargs = readJson(argv, 'kwargs', 'object') as Record<string, unknown> | undefined;
  const names = ((argv.service as unknown[] | undefined) ?? []).map(String);
  const logger = createCliLogger({
    level: readString(argv, 'log-level') ?? 'info',
    format: (readString(argv, 'log-format') ?? 'auto') as LogFormat,
  });
  const loaded = await loadServiceModule(modulePath, runtime.cwd);
  const selected = selectServices(loaded, names);
  const constructorArgs = constructorArguments(selected, args, kwargs);
  const server = new GawServer({ ...options, logger, interceptors: await loadInterceptors(argv, runtime.cwd) });
  for (const service of selected) server.add(service.cls, ...constructorArgs.get(service)!);

  // Before listen(): a signal during start-up still stops cleanly.
  let metrics: MetricsServer | undefined;
  const signals = waitForStopSignal(logger, { isWatchingParent: isWatchingParent(argv, runtime.env) });
  try {
    await server.listen();
    metrics = metricsPort && new MetricsServer({ ...metricsPort, registry: server.metrics!, logger });
    await metrics?.listen();
    const address = server.address;
    const httpAddress = server.httpAddress;
    const services = Object.fromEntries(selected.map((s) => [s.name, s.methods]));
    logger.info(
      {
        address: `${address.address}:${address.port}`,
        port: address.port,
        ...(httpAddress !== undefined && {
          http: `http://${httpAddress.address}:${httpAddress.port}/api`,
          httpPort: httpAddress.port,
        }),
        ...(server.legacyAddress !== undefined && {
          legacy: `${server.legacyAddress.address}:${server.legacyAddress.port}`,
          legacyPort: server.legacyAddress.port,
        }),
        ...(metrics && { metrics: `http://${metrics.address.address}:${metrics.address.port}/metrics` }),
        suite: server.suite,
        codecs: options.codecs ?? ['json', 'msgpack'],
        services,
        module: loaded.path,
      },
      'gaw started',
    );
    const bound = { port: address.port, httpPort: httpAddress?.port, legacyPort: server.legacyAddress?.port };
    const warning = exposureWarning(serverExposures(options, bound));
    if (warning !== undefined) logger.warn(warning.fields, warning.message);
    runtime.onListening?.({ address, httpAddress, suite: server.suite, services });
    const signal = await signals.stopped;
    logger.info({ signal }, 'stopping: finishing in-flight calls (send the signal again to exit now)');
    await Promise.all([server.close(), metrics?.close()]);
    logger.info('gaw stopped');
    return exitCodes.ok;
  } catch (err) {
    await Promise.all([server.close().catch(() => {}), metrics?.close()]);
    throw err;
  } finally {
    signals.dispose();
  }
}
