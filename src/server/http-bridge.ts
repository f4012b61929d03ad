// The HTTP /api bridge: JSON-RPC 2.0 over HTTP/1.1 for curl, browsers and other languages.
// Owns the HTTP server: paths, /health, timeouts, keep-alive and close. What POST /api does with a
// request is http-handler.ts; JSON-RPC itself is the `dispatch` function it is given (a local
// Dispatcher, or a forwarder to remote servers).
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { Logger } from '../log.js';
import { checkInteger } from '../postoffice/index.js';
import { createCodec, defaultRegistry } from '../serializable/index.js';
import type { Registry } from '../serializable/index.js';
import { HttpApi, jsonHeaders } from './http-handler.js';
import { HostPolicy } from './http-hosts.js';
import { hashToken } from './http-rules.js';

export { isJsonContentType } from './http-rules.js';

export interface HttpBridgeOptions {
  /** Runs one decoded message; resolves to the reply or undefined (nothing to send). Should never reject. */
  dispatch: (message: unknown) => Promise<unknown | undefined>;
  /** Default 127.0.0.1: the bridge is plain HTTP, not encrypted. */
  host?: string;
  /** Default 0: a free port (read it from `address`). */
  port?: number;
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
   * the address a request arrived at, `host`, and `localhost` on loopback. Others get 421: a page
   * whose name was rebound to this address (DNS rebinding) cannot call. `'*'` turns the check off.
   */
  allowedHosts?: readonly string[];
  /** Web origins whose pages may call (beyond this server's own); a browser's other origins get 403. */
  allowedOrigins?: readonly string[];
  /** Largest request body (default 1 MiB); larger ones get 413 and the connection is closed. */
  maxBodyBytes?: number;
  /**
   * The headers must arrive within this (default 10 s), and then the body within this again, else
   * 408 and the connection is closed.
   */
  bodyTimeoutMs?: number;
  /** Decoded nesting depth limit (default: the registry's, 64). */
  maxDepth?: number;
  logger?: Logger;
  /** How long an idle keep-alive connection stays open (default 5 s). */
  keepAliveTimeoutMs?: number;
  /** close() waits this long for requests in progress before closing their connections (default 5 s). */
  closeTimeoutMs?: number;
}

const defaults = {
  host: '127.0.0.1',
  port: 0,
  maxBodyBytes: 1024 * 1024,
  bodyTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  closeTimeoutMs: 5_000,
} as const;

export class HttpBridge {
  readonly #api: HttpApi;
  readonly #host: string;
  readonly #port: number;
  readonly #isTokenRequired: boolean;
  readonly #logger: Logger;
  readonly #closeTimeoutMs: number;
  readonly #server: Server;
  #isListening = false;
  #closing: Promise<void> | undefined;

  constructor(options: HttpBridgeOptions) {
    if (typeof options?.dispatch !== 'function')
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'HttpBridge needs a dispatch function');
    if (options.maxDepth !== undefined) checkInteger('maxDepth', options.maxDepth, 1, 10_000);
    if (options.host !== undefined && (typeof options.host !== 'string' || options.host === '')) {
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'host must be a non-empty string');
    }
    if (
      options.token !== undefined &&
      (typeof options.token !== 'string' || !/^[\x21-\x7e]{1,1024}$/.test(options.token))
    ) {
      throw new UsageError(
        'GAW_ERR_INVALID_OPTION',
        'token must be 1 to 1024 visible ASCII characters (its value is never shown)',
      );
    }
    this.#host = options.host ?? defaults.host;
    this.#port = checkInteger('port', options.port ?? defaults.port, 0, 65535);
    this.#logger = options.logger ?? silentLogger;
    this.#isTokenRequired = options.token !== undefined;
    const bodyTimeoutMs = checkInteger('bodyTimeoutMs', options.bodyTimeoutMs ?? defaults.bodyTimeoutMs, 1, 2 ** 30);
    this.#api = new HttpApi({
      dispatch: options.dispatch,
      isRaw: options.isRaw === true,
      codec: createCodec('json', { registry: options.registry ?? defaultRegistry, maxDepth: options.maxDepth }),
      tokenHash: options.token === undefined ? undefined : hashToken(options.token),
      hostPolicy: new HostPolicy({
        allowedHosts: options.allowedHosts,
        allowedOrigins: options.allowedOrigins,
        boundHost: this.#host,
      }),
      maxBodyBytes: checkInteger('maxBodyBytes', options.maxBodyBytes ?? defaults.maxBodyBytes, 1),
      bodyTimeoutMs,
      logger: this.#logger,
      isClosing: () => this.#closing !== undefined,
    });
    this.#closeTimeoutMs = checkInteger(
      'closeTimeoutMs',
      options.closeTimeoutMs ?? defaults.closeTimeoutMs,
      0,
      2 ** 31 - 1,
    );
    this.#server = createServer({
      headersTimeout: bodyTimeoutMs,
      // A backstop only: the handler's own body timer answers a slow body with a JSON-RPC 408 first.
      requestTimeout: 2 * bodyTimeoutMs + 1_000,
      // Node checks both timeouts on this interval: keep it well below the timeout itself.
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(bodyTimeoutMs / 4))),
    });
    this.#server.keepAliveTimeout = checkInteger(
      'keepAliveTimeoutMs',
      options.keepAliveTimeoutMs ?? defaults.keepAliveTimeoutMs,
      1,
      2 ** 31 - 1,
    );
    this.#server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res, false));
    // `Expect: 100-continue`: check everything the headers can tell before inviting the body.
    this.#server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res, true));
    // No 'clientError' listener: Node's own answers malformed (400), oversized-header (431) and
    // timed-out (408) requests and destroys the socket.
  }

  /** Resolves when listening; rejects with GAW_ERR_ADDRESS_IN_USE when the port is taken. */
  listen(): Promise<void> {
    if (this.#closing) return Promise.reject(new UsageError('GAW_ERR_CLOSED', 'the HTTP bridge was closed'));
    if (this.#isListening)
      return Promise.reject(new UsageError('GAW_ERR_INVALID_OPTION', 'listen() was already called'));
    this.#isListening = true;
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        this.#isListening = false;
        if (err.code === 'EADDRINUSE') {
          reject(
            new UsageError('GAW_ERR_ADDRESS_IN_USE', `the HTTP port ${this.#host}:${this.#port} is taken`, {
              cause: err,
            }),
          );
        } else reject(err);
      };
      this.#server.once('error', onError);
      this.#server.listen(this.#port, this.#host, () => {
        this.#server.off('error', onError);
        this.#server.on('error', (err) => this.#logger.error({ err }, 'http bridge server error'));
        const { address, port } = this.address;
        this.#logger.info(
          { http: `${address}:${port}`, isTokenRequired: this.#isTokenRequired },
          'http bridge listening on /api',
        );
        resolve();
      });
    });
  }

  /** The bound address; throws GAW_ERR_CLOSED when not listening. */
  get address(): AddressInfo {
    const address = this.#server.address();
    if (address === null || typeof address === 'string')
      throw new UsageError('GAW_ERR_CLOSED', 'the HTTP bridge is not listening');
    return address;
  }

  /**
   * Stops accepting, closes idle keep-alive connections, lets requests in progress finish for up to
   * closeTimeoutMs, then closes every connection. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (!this.#server.listening) {
        resolve();
        return;
      }
      const timer = setTimeout(() => this.#server.closeAllConnections(), this.#closeTimeoutMs);
      timer.unref();
      this.#server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.#server.closeIdleConnections();
    });
    return this.#closing;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (path === '/api') this.#api.handle(req, res, expectsContinue);
    else if (path === '/health') this.#onHealth(req, res);
    else this.#api.refuse(req, res, 404, 'not found: the JSON-RPC endpoint is POST /api');
  }

  #onHealth(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.#api.refuse(req, res, 405, 'use GET on /health', { Allow: 'GET, HEAD' });
      return;
    }
    const body = '{"status":"ok"}';
    res.writeHead(200, { ...jsonHeaders, 'Content-Length': Buffer.byteLength(body), ...this.#closeHeader() });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  #closeHeader(): { Connection?: 'close' } {
    return this.#closing ? { Connection: 'close' } : {};
  }
}
