// `gaw bridge --to <host:port> --port <n>`: the standalone HTTP bridge. JSON-RPC posted to /api is
// forwarded as plain messages over a pooled GawClient (class tags pass through untouched) and the
// replies are sent back. HTTP rules are src/server's HttpBridge; signals as in serve.ts.
import { GawClient } from '../client/index.js';
import { Dispatcher, HttpBridge } from '../server/index.js';
import { RemoteError, ServiceError } from '../errors.js';
import { readClientOptions } from './call.js';
import { createCliLogger } from './logger.js';
import type { LogFormat } from './logger.js';
import {
  exitCodes,
  logOptions,
  parseTarget,
  readBoolean,
  readInteger,
  readString,
  securityOptions,
  usage,
} from './options.js';
import type { Argv, Env } from './options.js';
import { httpFlags, readHttpFlags } from './http-flags.js';
import { isWatchingParent, lifetimeOptions, waitForStopSignal } from './signals.js';
import { exposureOptions, exposureWarning, refuseExposure } from './exposure.js';
import type { Exposure } from './exposure.js';

export const bridgeOptions = {
  to: { type: 'string', demandOption: true, describe: 'the gaw server to forward to, host:port' },
  port: { type: 'string', defaultDescription: '8000', describe: 'the HTTP port (0 picks a free one)' },
  host: { type: 'string', defaultDescription: '127.0.0.1', describe: 'the HTTP address (plain HTTP, not encrypted)' },
  ...securityOptions,
  ...httpFlags('HTTP:'),
  'timeout-ms': {
    type: 'string',
    defaultDescription: '30000',
    describe: 'a forwarded call gets no reply within this: error',
  },
  ...exposureOptions,
  ...logOptions,
  ...lifetimeOptions,
} as const;

/** Runs the bridge until a signal stops it; resolves to the exit code. */
export async function runBridge(argv: Argv, env: Env): Promise<number> {
  const to = parseTarget(readString(argv, 'to') ?? '', '--to');
  if (to.kind !== 'tcp') throw usage("--to must be a gaw server's host:port, not a URL");
  const options = readClientOptions(argv);
  const port = readInteger(argv, 'port', 0, 65535) ?? 8000;
  const host = readString(argv, 'host') ?? '127.0.0.1';
  const isOpen = readBoolean(argv, 'http-open');
  if (options.secret !== undefined && options.httpToken === undefined && !isOpen) {
    throw usage(
      'the bridge needs a bearer token when the server has a secret: --http-token-file, GAW_HTTP_TOKEN or --http-token (or --http-open to serve it without one)',
    );
  }
  const exposures: Exposure[] =
    options.httpToken === undefined
      ? [
          {
            what: 'the bridge',
            host,
            port,
            lacks: 'a bearer token',
            remedy: '--http-token-file or GAW_HTTP_TOKEN',
            isOpenByChoice: isOpen,
          },
        ]
      : [];
  refuseExposure(exposures, readBoolean(argv, 'insecure'));
  const logger = createCliLogger({
    level: readString(argv, 'log-level') ?? 'info',
    format: (readString(argv, 'log-format') ?? 'auto') as LogFormat,
  });
  const client = new GawClient({
    host: to.host,
    port: to.port,
    logger,
    timeoutMs: options.timeoutMs,
    ...(options.secret !== undefined && { secret: options.secret }),
    ...(options.encrypt && { encrypt: true }),
    ...(options.suite !== undefined && { suite: options.suite }),
  }); // always the json codec: forwarded requests go out as the JSON wire data they arrived as
  // The one JSON-RPC implementation validates and splits batches; each valid request is forwarded
  // as wire data (class tags untouched) and a remote error keeps its code.
  const forwarder = new Dispatcher({
    logger,
    forward: async (method, params, isNotification) => {
      const wireParams = params as unknown[] | Record<string, unknown> | undefined;
      if (isNotification) return client.notify(method, wireParams, { isRaw: true });
      try {
        return await client.callRaw(method, wireParams);
      } catch (err) {
        if (err instanceof RemoteError) throw new ServiceError(err.rpcCode, err.message, err.data, { cause: err });
        throw err;
      }
    },
  });
  const bridge = new HttpBridge({
    dispatch: (message, origin) => forwarder.dispatch(message, origin),
    isRaw: true,
    host,
    port,
    logger,
    ...(options.httpToken !== undefined && { token: options.httpToken }),
    ...readHttpFlags(argv),
  });
  const signals = waitForStopSignal(logger, { isWatchingParent: isWatchingParent(argv, env) });
  try {
    await bridge.listen();
    const address = bridge.address;
    logger.info(
      {
        http: `http://${address.address}:${address.port}/api`,
        httpPort: address.port,
        to: `${to.host}:${to.port}`,
        isTokenRequired: options.httpToken !== undefined,
      },
      'gaw bridge started',
    );
    const warning = exposureWarning(exposures.map((e) => ({ ...e, port: address.port })));
    if (warning !== undefined) logger.warn(warning.fields, warning.message);
    const signal = await signals.stopped;
    logger.info({ signal }, 'stopping: finishing requests in progress (send the signal again to exit now)');
    await bridge.close();
    await client.close();
    logger.info('gaw bridge stopped');
    return exitCodes.ok;
  } catch (err) {
    await bridge.close().catch(() => {});
    client.destroy();
    throw err;
  } finally {
    signals.dispose();
  }
}
