// The options of the POST /api handler (shared by HttpBridge and server.httpHandler()), their
// defaults in one place, and their validation into the settings HttpApi runs on.
import { UsageError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { Logger } from '../log.js';
import { checkInteger } from '../postoffice/index.js';
import { createCodec, defaultRegistry } from '../serializable/index.js';
import type { Codec, Registry } from '../serializable/index.js';
import { CorsPolicy } from './http-cors.js';
import { HostPolicy } from './http-hosts.js';
import type { CallOrigin } from './inbound-call.js';
import { hashToken } from './http-rules.js';

export interface HttpHandlerOptions {
  /**
   * Runs one decoded message; returns (or resolves to) the reply, or undefined when nothing is to
   * be sent. Should never throw or reject (a failure is answered 500 with -32603).
   */
  dispatch: (message: unknown, origin?: CallOrigin) => unknown;
  /** For the json codec: classes in replies appear as {"_t": tag, "_v": value}. */
  registry?: Registry;
  /**
   * Replies are wire data already (a forwarding bridge's): sent as plain JSON, class tags untouched,
   * never re-tagged. Default false.
   */
  isRaw?: boolean;
  /** When set, every /api request needs `Authorization: Bearer <token>` (compared in constant time). */
  token?: string;
  /**
   * Host names also accepted in the `Host` header (`name`, `name:port`, `[v6]`, `.domain`), beyond
   * the address a request arrived at and `localhost` on loopback. Others get 421: a page whose name
   * was rebound to this address (DNS rebinding) cannot call. `'*'` turns the check off.
   */
  allowedHosts?: readonly string[];
  /** Web origins whose pages may call (beyond this server's own); a browser's other origins get 403. */
  allowedOrigins?: readonly string[];
  /**
   * Web origins (`https://app.example.com`) whose pages may call cross-site and read the replies:
   * preflights are answered and replies carry `Access-Control-Allow-Origin` for exactly these
   * (never `*`). They are allowed origins too. Default none: no CORS headers at all.
   */
  corsOrigins?: readonly string[];
  /** Largest request body (default 1 MiB); larger ones get 413 and the connection is closed. */
  maxBodyBytes?: number;
  /** The body must arrive within this after the headers (default 10 s), else 408 and the connection is closed. */
  bodyTimeoutMs?: number;
  /** Requests read or running at once (default 256); past it 503 with -32002, nothing run. */
  maxInFlight?: number;
  /** Decoded nesting depth limit (default: the registry's, 64). */
  maxDepth?: number;
  logger?: Logger;
}

export const handlerDefaults = {
  maxBodyBytes: 1024 * 1024,
  bodyTimeoutMs: 10_000,
  maxInFlight: 256,
} as const;

/** What HttpApi runs on: the options validated, defaults applied. */
export interface HttpApiSettings {
  dispatch: (message: unknown, origin?: CallOrigin) => unknown;
  isRaw: boolean;
  codec: Codec;
  tokenHash: Buffer | undefined;
  hostPolicy: HostPolicy;
  cors: CorsPolicy;
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  maxInFlight: number;
  logger: Logger;
  /** True once the owner is closing: replies then carry `Connection: close`. */
  isClosing: () => boolean;
}

/** Validates `options` (messages name the option); `boundHost` is the bridge's address, if any. */
export function resolveHandlerOptions(
  options: HttpHandlerOptions,
  boundHost: string | undefined,
  isClosing: () => boolean,
): HttpApiSettings {
  if (typeof options?.dispatch !== 'function')
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'the HTTP handler needs a dispatch function');
  if (options.maxDepth !== undefined) checkInteger('maxDepth', options.maxDepth, 1, 10_000);
  if (
    options.token !== undefined &&
    (typeof options.token !== 'string' || !/^[\x21-\x7e]{1,1024}$/.test(options.token))
  ) {
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      'token must be 1 to 1024 visible ASCII characters (its value is never shown)',
    );
  }
  const cors = new CorsPolicy(options.corsOrigins);
  return {
    dispatch: options.dispatch,
    isRaw: options.isRaw === true,
    codec: createCodec('json', { registry: options.registry ?? defaultRegistry, maxDepth: options.maxDepth }),
    tokenHash: options.token === undefined ? undefined : hashToken(options.token),
    hostPolicy: new HostPolicy({
      allowedHosts: options.allowedHosts,
      allowedOrigins:
        cors.isEnabled && Array.isArray(options.allowedOrigins ?? [])
          ? [...(options.allowedOrigins ?? []), ...cors.origins]
          : options.allowedOrigins,
      boundHost,
    }),
    cors,
    maxBodyBytes: checkInteger('maxBodyBytes', options.maxBodyBytes ?? handlerDefaults.maxBodyBytes, 1),
    bodyTimeoutMs: checkInteger('bodyTimeoutMs', options.bodyTimeoutMs ?? handlerDefaults.bodyTimeoutMs, 1, 2 ** 30),
    maxInFlight: checkInteger('maxInFlight', options.maxInFlight ?? handlerDefaults.maxInFlight, 1),
    logger: options.logger ?? silentLogger,
    isClosing,
  };
}
