// The CLI's metrics flags for `gaw <module>`: --metrics (count, and serve GET /metrics on the HTTP
// bridge) and --metrics-port / --metrics-host (a port of its own for /metrics, for a server without
// the bridge), with the bridge's token rule: a server with a secret needs a bearer token there too
// (--http-token-file, GAW_HTTP_TOKEN, --http-token) unless --http-open. Reads argv; serves nothing.
import type { MetricsServerOptions } from '../server/index.js';
import { isLoopbackHost } from './exposure.js';
import { optionLabel } from './env-options.js';
import { readBoolean, readHttpToken, readInteger, readString, usage } from './options.js';
import type { Argv } from './options.js';

const group = 'Observability:';

export const metricsOptions = {
  metrics: {
    type: 'boolean',
    group,
    describe:
      'count calls, connections and handshakes (needs prom-client) and serve them at GET /metrics of the bridge',
  },
  'metrics-port': {
    type: 'string',
    group,
    describe: 'serve GET /metrics on a port of its own (for a server without --http-port; implies --metrics)',
  },
  'metrics-host': {
    type: 'string',
    group,
    defaultDescription: '127.0.0.1',
    describe: 'the metrics port address (plain HTTP)',
  },
} as const;

/** True when metrics are asked for, by --metrics or --metrics-port. */
export function isMetricsOn(argv: Argv): boolean {
  return readBoolean(argv, 'metrics') || argv['metrics-port'] !== undefined;
}

/** The bridge's token flags, which --metrics-port takes too. */
export function isMetricsPortFlag(argv: Argv, name: string): boolean {
  return argv['metrics-port'] !== undefined && ['http-token', 'http-token-file', 'http-open'].includes(name);
}

/**
 * The metrics port's options (less the Registry), checked before the server starts; undefined
 * without --metrics-port.
 */
export function readMetricsPort(
  argv: Argv,
  server: { hasSecret: boolean; httpToken: string | undefined; isInsecure: boolean },
): Omit<MetricsServerOptions, 'registry'> | undefined {
  const port = readInteger(argv, 'metrics-port', 0, 65535);
  if (port === undefined) {
    if (argv['metrics-host'] !== undefined)
      throw usage(`${optionLabel(argv, 'metrics-host')} needs --metrics-port (the metrics port is off without it)`);
    return undefined;
  }
  const host = readString(argv, 'metrics-host') ?? '127.0.0.1';
  const token = server.httpToken ?? readHttpToken(argv);
  const isOpen = readBoolean(argv, 'http-open');
  if (server.hasSecret && token === undefined && !isOpen)
    throw usage(
      'the metrics port needs a bearer token when the server has a secret: --http-token-file, GAW_HTTP_TOKEN or --http-token (or --http-open to serve it without one)',
    );
  if (token === undefined && !isOpen && !server.isInsecure && !isLoopbackHost(host))
    throw usage(
      `refusing to serve /metrics on ${host}:${port} without a bearer token: give one (--http-token-file or GAW_HTTP_TOKEN), listen on 127.0.0.1, or pass --insecure`,
    );
  return { host, port, ...(token !== undefined && { token }) };
}
