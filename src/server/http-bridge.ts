// The HTTP /api bridge: JSON-RPC 2.0 over HTTP/1.1 for curl, browsers and other languages.
// Owns the HTTP server: paths, methods, body cap, timeouts, keep-alive and close (the small header
// rules are in http-rules.ts). JSON-RPC itself is the `dispatch` function it is given (a local
// Dispatcher, or a forwarder to remote servers).
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { Logger } from '../log.js';
import { parseErrorResponse, repairReply } from '../jsonrpc/index.js';
import { checkInteger } from '../postoffice/index.js';
import { createCodec, defaultRegistry } from '../serializable/index.js';
import type { Codec, Registry } from '../serializable/index.js';
import { hashToken, internalErrors, isBearerAuthorized, isJsonContentType } from './http-rules.js';

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
  /** Largest request body (default 1 MiB); larger ones get 413 and the connection is closed. */
  maxBodyBytes?: number;
  /** A request (headers and body) must arrive within this (default 10 s), else 408 and close. */
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

const jsonHeaders = {
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
} as const;

export class HttpBridge {
  readonly #dispatch: (message: unknown) => Promise<unknown | undefined>;
  readonly #isRaw: boolean;
  readonly #host: string;
  readonly #port: number;
  readonly #codec: Codec;
  readonly #tokenHash: Buffer | undefined;
  readonly #maxBodyBytes: number;
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
    this.#dispatch = options.dispatch;
    this.#isRaw = options.isRaw === true;
    this.#host = options.host ?? defaults.host;
    this.#port = checkInteger('port', options.port ?? defaults.port, 0, 65535);
    this.#codec = createCodec('json', { registry: options.registry ?? defaultRegistry, maxDepth: options.maxDepth });
    this.#tokenHash = options.token === undefined ? undefined : hashToken(options.token);
    this.#maxBodyBytes = checkInteger('maxBodyBytes', options.maxBodyBytes ?? defaults.maxBodyBytes, 1);
    this.#logger = options.logger ?? silentLogger;
    this.#closeTimeoutMs = checkInteger(
      'closeTimeoutMs',
      options.closeTimeoutMs ?? defaults.closeTimeoutMs,
      0,
      2 ** 31 - 1,
    );
    const requestTimeoutMs = checkInteger(
      'bodyTimeoutMs',
      options.bodyTimeoutMs ?? defaults.bodyTimeoutMs,
      1,
      2 ** 31 - 1,
    );
    this.#server = createServer({
      requestTimeout: requestTimeoutMs,
      headersTimeout: requestTimeoutMs,
      // Node checks both timeouts on this interval: keep it well below the timeout itself.
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(requestTimeoutMs / 4))),
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
          { http: `${address}:${port}`, isTokenRequired: this.#tokenHash !== undefined },
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
    if (path === '/api') this.#onApi(req, res, expectsContinue);
    else if (path === '/health') this.#onHealth(req, res);
    else this.#refuse(req, res, 404, 'not found: the JSON-RPC endpoint is POST /api');
  }

  #onHealth(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.#refuse(req, res, 405, 'use GET on /health', { Allow: 'GET, HEAD' });
      return;
    }
    const body = '{"status":"ok"}';
    res.writeHead(200, { ...jsonHeaders, 'Content-Length': Buffer.byteLength(body), ...this.#closeHeader() });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  #onApi(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void {
    if (req.method !== 'POST') {
      this.#refuse(req, res, 405, 'use POST on /api', { Allow: 'POST' });
      return;
    }
    if (this.#tokenHash !== undefined && !isBearerAuthorized(req.headers.authorization, this.#tokenHash)) {
      this.#logger.warn({ peer: req.socket.remoteAddress }, 'http bridge: missing or wrong bearer token');
      this.#refuse(req, res, 401, 'a bearer token is required: send Authorization: Bearer <token>', {
        'WWW-Authenticate': 'Bearer',
      });
      return;
    }
    if (!isJsonContentType(req.headers['content-type'])) {
      this.#refuse(req, res, 415, 'the body must be JSON: send Content-Type: application/json');
      return;
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > this.#maxBodyBytes) {
      this.#refuse(req, res, 413, `the body is larger than ${this.#maxBodyBytes} bytes`);
      return;
    }
    if (expectsContinue) res.writeContinue();
    this.#readBody(req, res);
  }

  #readBody(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= this.#maxBodyBytes) {
        chunks.push(chunk);
        return;
      }
      chunks.length = 0;
      req.off('data', onData);
      req.pause();
      this.#refuse(req, res, 413, `the body is larger than ${this.#maxBodyBytes} bytes`);
    };
    req.on('data', onData);
    req.on('end', () => {
      if (size > this.#maxBodyBytes) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      void this.#answer(res, body);
    });
  }

  async #answer(res: ServerResponse, body: Buffer): Promise<void> {
    let message: unknown;
    try {
      message = this.#codec.decode(body);
    } catch (err) {
      // JSON-RPC over HTTP: a body that is not JSON still gets 200 with the -32700 reply.
      this.#send(res, 200, this.#encode(parseErrorResponse(err)));
      return;
    }
    let reply: unknown;
    let status = 200;
    try {
      reply = await this.#dispatch(message);
    } catch (err) {
      this.#logger.error({ err }, 'http bridge: dispatch failed');
      reply = internalErrors(message);
      status = 500;
    }
    if (reply === undefined) {
      res.writeHead(204, { 'Cache-Control': 'no-store', ...this.#closeHeader() });
      res.end();
      return;
    }
    this.#send(res, status, this.#encode(reply));
  }

  #encode(reply: unknown): Buffer {
    try {
      return this.#isRaw ? Buffer.from(JSON.stringify(reply), 'utf8') : this.#codec.encode(reply);
    } catch (err) {
      this.#logger.warn({ err }, 'http bridge: a reply could not be encoded');
      return this.#codec.encode(repairReply(reply, (value) => this.#codec.encode(value)));
    }
  }

  #send(res: ServerResponse, status: number, body: Buffer): void {
    res.writeHead(status, { ...jsonHeaders, 'Content-Length': body.length, ...this.#closeHeader() });
    res.end(body);
  }

  #closeHeader(): { Connection?: 'close' } {
    return this.#closing ? { Connection: 'close' } : {};
  }

  /**
   * An HTTP-level refusal with a small JSON body. When the request still has an unread body, the
   * connection is closed after the reply rather than reading that body.
   */
  #refuse(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    reason: string,
    headers: Record<string, string> = {},
  ): void {
    const hasUnreadBody =
      !req.complete &&
      (req.headers['content-length'] !== undefined
        ? req.headers['content-length'] !== '0'
        : req.headers['transfer-encoding'] !== undefined);
    const body = JSON.stringify({ error: reason });
    res.writeHead(status, {
      ...jsonHeaders,
      ...headers,
      'Content-Length': Buffer.byteLength(body),
      ...(hasUnreadBody || this.#closing ? { Connection: 'close' } : {}),
    });
    res.end(body);
  }
}
