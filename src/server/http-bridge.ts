// The HTTP /api bridge: JSON-RPC 2.0 over HTTP/1.1 for curl, browsers and other languages.
// Owns the HTTP server: paths, /health, the connection cap, header timeouts, keep-alive, making
// room when the process runs out of file descriptors, and close. What POST /api does with a request
// is http-handler.ts; JSON-RPC itself is the `dispatch` function it is given (a local Dispatcher,
// or a forwarder to remote servers).
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { checkInteger, countOpenDescriptors, watchServerErrors } from '../postoffice/index.js';
import { descriptorBudget } from './http-descriptors.js';
import { ServiceConsole } from './http-console.js';
import { HttpApi, jsonHeaders } from './http-handler.js';
import { resolveHandlerOptions } from './http-options.js';
import type { HttpHandlerOptions } from './http-options.js';
import type { WebSocketHub } from './ws-hub.js';
import { WebSocketMount } from './ws-mount.js';
import { MetricsEndpoint } from './http-metrics.js';
import type { MetricsRegistry } from '../observe/index.js';
import type { WebSocketOptions } from './ws-options.js';

export { isJsonContentType } from './http-rules.js';

export interface HttpBridgeOptions extends HttpHandlerOptions {
  /** Default 127.0.0.1: the bridge is plain HTTP, not encrypted. */
  host?: string;
  /** Default 0: a free port (read it from `address`). */
  port?: number;
  /**
   * Open connections at once (default 1,024, and at most half the process's open-file limit);
   * past it a new connection is closed at once, so the bridge never takes every descriptor.
   */
  maxConnections?: number;
  /** The request line and headers must arrive within this (default 5 s, at most bodyTimeoutMs), else 408. */
  headersTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open (default 5 s). */
  keepAliveTimeoutMs?: number;
  /** close() waits this long for requests in progress before closing their connections (default 5 s). */
  closeTimeoutMs?: number;
  /** Serve the service console at GET / (and gaw/browser under /gaw/); default false: nothing at /. */
  console?: boolean;
  /** Also take WebSocket upgrades on /api: `true` or its limits (needs `ws`; off by default). */
  websocket?: boolean | WebSocketOptions;
  /** Where the bridge's WebSockets register for pushes (default: one of its own, `webSockets`). */
  webSockets?: WebSocketHub;
  /** Serve this prom-client Registry at GET /metrics (the server's `metrics`), under the token rule of /api. */
  metrics?: MetricsRegistry | undefined;
}

const defaults = {
  host: '127.0.0.1',
  port: 0,
  maxConnections: 1024,
  headersTimeoutMs: 5_000,
  keepAliveTimeoutMs: 5_000,
  closeTimeoutMs: 5_000,
  /** How long accepting stops after the process ran out of file descriptors. */
  acceptPauseMs: 1_000,
} as const;

const maxTimeoutMs = 2 ** 30;

export class HttpBridge {
  readonly #api: HttpApi;
  readonly #ws: WebSocketMount;
  readonly #host: string;
  readonly #port: number;
  readonly #isTokenRequired: boolean;
  readonly #logger: Logger;
  readonly #closeTimeoutMs: number;
  readonly #server: Server;
  /** Every open connection, so room can be made by closing those with nothing being answered. */
  readonly #sockets = new Set<Socket>();
  readonly #budget = descriptorBudget(defaults.maxConnections);
  readonly #console: ServiceConsole | undefined;
  readonly #metrics: MetricsEndpoint | undefined;
  #address: AddressInfo | undefined;
  #isListening = false;
  #pauseTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: HttpBridgeOptions) {
    if (options?.host !== undefined && (typeof options.host !== 'string' || options.host === '')) {
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'host must be a non-empty string');
    }
    this.#host = options?.host ?? defaults.host;
    const settings = resolveHandlerOptions(options, this.#host, () => this.#closing !== undefined);
    this.#api = new HttpApi(settings);
    this.#console = options.console === true ? new ServiceConsole() : undefined;
    this.#metrics = options.metrics && new MetricsEndpoint(options.metrics, settings, (...a) => this.#api.refuse(...a));
    this.#ws = new WebSocketMount(options.websocket, settings, options.webSockets, options.registry);
    this.#port = checkInteger('port', options.port ?? defaults.port, 0, 65535);
    this.#logger = settings.logger;
    this.#isTokenRequired = settings.tokenHash !== undefined;
    this.#closeTimeoutMs = checkInteger(
      'closeTimeoutMs',
      options.closeTimeoutMs ?? defaults.closeTimeoutMs,
      0,
      maxTimeoutMs,
    );
    const bodyTimeoutMs = settings.bodyTimeoutMs;
    const headersTimeoutMs = Math.min(
      checkInteger('headersTimeoutMs', options.headersTimeoutMs ?? defaults.headersTimeoutMs, 1, maxTimeoutMs),
      bodyTimeoutMs,
    );
    this.#server = createServer({
      headersTimeout: headersTimeoutMs,
      // A backstop only: the handler's own body timer answers a slow body with a JSON-RPC 408 first.
      requestTimeout: headersTimeoutMs + bodyTimeoutMs + 1_000,
      // Node checks both timeouts on this interval: keep it well below the timeout itself.
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(headersTimeoutMs / 4))),
    });
    this.#server.maxConnections =
      options.maxConnections === undefined
        ? this.#budget.defaultCap
        : checkInteger('maxConnections', options.maxConnections, 1);
    this.#server.keepAliveTimeout = checkInteger(
      'keepAliveTimeoutMs',
      options.keepAliveTimeoutMs ?? defaults.keepAliveTimeoutMs,
      1,
      maxTimeoutMs,
    );
    this.#server.on('connection', (socket: Socket) => this.#onConnection(socket));
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
    // With WebSocket on, `ws` is loaded first: a missing package fails listen(), naming it.
    const started = this.#ws.start(this.#server).catch((err: unknown) => {
      this.#isListening = false;
      throw err;
    });
    return started.then(() => this.#listen());
  }

  #listen(): Promise<void> {
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
        watchServerErrors(this.#server, 'http bridge', this.#logger, () => this.makeRoom());
        this.#address = this.#server.address() as AddressInfo;
        const { address, port } = this.#address;
        this.#logger.info(
          { http: `${address}:${port}`, isTokenRequired: this.#isTokenRequired },
          'http bridge listening on /api',
        );
        resolve();
      });
    });
  }

  /** The bound address (also while accepting is paused); throws GAW_ERR_CLOSED when not listening. */
  get address(): AddressInfo {
    if (this.#address === undefined || this.#closing)
      throw new UsageError('GAW_ERR_CLOSED', 'the HTTP bridge is not listening');
    return this.#address;
  }

  /** The bridge's WebSockets, for pushes (the `webSockets` option, or its own). */
  get webSockets(): WebSocketHub {
    return this.#ws.hub;
  }

  /** Requests read or running now (see maxInFlight). */
  get inFlight(): number {
    return this.#api.inFlight;
  }

  /**
   * Frees file descriptors when the process has run out (called on EMFILE/ENFILE here or on
   * another listener of the process): closes every connection with nothing being answered (idle,
   * or still sending headers or a body) and stops accepting for a second. Requests already
   * running finish. The GAWP port matters more than the bridge.
   */
  makeRoom(): void {
    if (this.#closing || this.#address === undefined) return;
    let closed = 0;
    for (const socket of this.#sockets) {
      if (this.#api.isAnswering(socket) || this.#ws.isKept(socket)) continue;
      socket.destroy();
      closed++;
    }
    this.#pause(`out of file descriptors: closed ${closed} connections with nothing being answered`);
  }

  #onConnection(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    // libuv hides most EMFILE failures (it accepts and closes the connection it has no room for),
    // so the bridge checks for itself, once it holds a good share of the descriptors.
    if (this.#sockets.size < this.#budget.checkFrom) return;
    const open = countOpenDescriptors();
    if (open === undefined || open <= this.#budget.limit - this.#budget.reserve) return;
    socket.destroy();
    this.#pause(`${open} of ${this.#budget.limit} file descriptors are open`);
  }

  /** Stops accepting for acceptPauseMs (http.Server.close() only stops accepting; the port is taken again). */
  #pause(reason: string): void {
    if (this.#pauseTimer !== undefined || this.#closing) return;
    this.#logger.warn({ reason, pauseMs: defaults.acceptPauseMs }, 'http bridge: not accepting for a moment');
    this.#server.close();
    this.#pauseTimer = setTimeout(() => this.#resume(), defaults.acceptPauseMs).unref();
  }

  #resume(): void {
    this.#pauseTimer = undefined;
    if (this.#closing) return;
    const onError = (err: NodeJS.ErrnoException): void => {
      this.#server.off('listening', onListening);
      this.#logger.warn({ code: err.code }, 'http bridge: cannot listen again yet; retrying');
      if (!this.#closing && this.#pauseTimer === undefined)
        this.#pauseTimer = setTimeout(() => this.#resume(), defaults.acceptPauseMs).unref();
    };
    const onListening = (): void => {
      this.#server.off('error', onError);
      this.#logger.info('http bridge: accepting again');
    };
    // The persistent error watch would answer a failed listen with makeRoom(): this one comes first.
    this.#server.prependOnceListener('error', onError);
    this.#server.once('listening', onListening);
    this.#server.listen(this.#address!.port, this.#host);
  }

  /**
   * Stops accepting, closes idle keep-alive connections, lets requests in progress finish for up to
   * closeTimeoutMs, then closes every connection. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      clearTimeout(this.#pauseTimer);
      this.#pauseTimer = undefined;
      if (this.#address === undefined) {
        resolve();
        return;
      }
      const timer = setTimeout(() => this.#server.closeAllConnections(), this.#closeTimeoutMs);
      timer.unref();
      // Upgraded sockets are not the HTTP server's any more: the endpoint drains and drops them.
      const webSockets = this.#ws.close(this.#closeTimeoutMs);
      this.#server.close(() => {
        clearTimeout(timer);
        void webSockets.then(() => resolve());
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
    else if (path === '/metrics' && this.#metrics !== undefined) this.#metrics.handle(req, res, this.#closeHeader());
    else if (!this.#console?.handle(req, res, path, this.#closeHeader()))
      this.#api.refuse(req, res, 404, 'not found: the JSON-RPC endpoint is POST /api');
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
