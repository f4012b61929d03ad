// The POST /api contract, for one request at a time: the method, the Host and Origin checks, the
// bearer token, the content type, the caps, reading the body (or taking a body another middleware
// parsed), decoding, dispatching and the reply. Knows nothing of paths or of the server it runs in:
// HttpBridge routes to it, and createHttpHandler() mounts it in node:http, Express or Fastify.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { parseErrorResponse, repairReply } from '../jsonrpc/index.js';
import { Deadlines } from './http-deadlines.js';
import { httpOrigin } from './http-context.js';
import { endNdjson, ndjsonOrigin } from './http-ndjson.js';
import { resolveHandlerOptions } from './http-options.js';
import { siteOf } from './http-hosts.js';
import type { HttpApiSettings, HttpHandlerOptions } from './http-options.js';
import { internalErrors, isBearerAuthorized, isJsonContentType, parsedBodyBytes, refusalBody } from './http-rules.js';

export const jsonHeaders = {
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
} as const;

export class HttpApi {
  readonly #s: HttpApiSettings;
  /** Sockets whose request has its whole body and is being answered: never shed to make room. */
  readonly #answering = new Set<Socket>();
  #inFlight = 0;
  /** Requests whose body is still arriving, under the body timeout. */
  readonly #bodies: Deadlines<ServerResponse>;

  constructor(settings: HttpApiSettings) {
    this.#s = settings;
    this.#bodies = new Deadlines(settings.bodyTimeoutMs);
  }

  /** Answers one request; never throws (a fault inside gaw is logged and answered 500 with -32603). */
  handle(req: IncomingMessage, res: ServerResponse, expectsContinue = false): void {
    try {
      this.#handle(req, res, expectsContinue);
    } catch (err) {
      this.#s.logger.error({ err }, 'http bridge: a request could not be handled');
      if (!res.headersSent) this.refuse(req, res, 500, 'the request could not be handled');
      else res.destroy();
    }
  }

  #handle(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void {
    const preflight = req.method === 'OPTIONS' ? req.headers['access-control-request-method'] : undefined;
    if (req.method !== 'POST' && preflight === undefined) {
      this.refuse(req, res, 405, 'use POST on /api', { Allow: 'POST' });
      return;
    }
    const site = siteOf(req);
    const misdirected = this.#s.hostPolicy.checkHost(site);
    if (misdirected !== undefined) {
      this.#s.logger.warn({ peer: req.socket.remoteAddress }, 'http bridge: a Host that does not name this server');
      this.refuse(req, res, 421, misdirected);
      return;
    }
    if (preflight !== undefined) {
      // A browser asks before a cross-site POST: answered for the CORS origins only, with no token.
      const answer = this.#s.cors.preflight(site.origin, preflight, req.headers['access-control-request-headers']);
      if ('refusal' in answer) this.refuse(req, res, 403, answer.refusal);
      else res.writeHead(204, { ...answer.headers, ...this.#closeHeader() }).end();
      return;
    }
    const cors = this.#s.cors.responseHeaders(site.origin);
    if (cors !== undefined) for (const [name, value] of Object.entries(cors)) res.setHeader(name, value);
    const foreign = this.#s.hostPolicy.checkOrigin(site);
    if (foreign !== undefined) {
      this.#s.logger.warn({ peer: req.socket.remoteAddress }, 'http bridge: a request from a foreign web origin');
      this.refuse(req, res, 403, foreign);
      return;
    }
    if (this.#s.tokenHash !== undefined && !isBearerAuthorized(req.headers.authorization, this.#s.tokenHash)) {
      this.#s.logger.warn({ peer: req.socket.remoteAddress }, 'http bridge: missing or wrong bearer token');
      this.refuse(req, res, 401, 'a bearer token is required: send Authorization: Bearer <token>', {
        'WWW-Authenticate': 'Bearer',
      });
      return;
    }
    const type = req.headers['content-type'];
    // No Content-Type is what a browser sends, with no preflight, for a fetch() of an untyped Blob:
    // taken only when a bearer token is required, since a browser cannot add that header cross-site.
    if (type === undefined ? this.#s.tokenHash === undefined : !isJsonContentType(type)) {
      this.refuse(req, res, 415, 'the body must be JSON: send Content-Type: application/json');
      return;
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > this.#s.maxBodyBytes) {
      this.refuse(req, res, 413, `the body is larger than ${this.#s.maxBodyBytes} bytes`);
      return;
    }
    if (this.#inFlight >= this.#s.maxInFlight) {
      this.refuse(req, res, 503, `${this.#s.maxInFlight} requests are already in progress: retry later`, {
        'Retry-After': '1',
      });
      return;
    }
    this.#inFlight++;
    const socket = req.socket;
    res.once('close', () => {
      this.#inFlight--;
      this.#answering.delete(socket);
      this.#bodies.delete(res);
    });
    // Another middleware (express.json(), a Fastify parser) read the stream: take what it parsed.
    if (req.readableDidRead || req.readableEnded) this.#takeParsed(req, res);
    else {
      if (expectsContinue) res.writeContinue();
      this.#readBody(req, res);
    }
  }

  /** A body already parsed into `req.body`: as bytes again, under the same cap, then answered. */
  #takeParsed(req: IncomingMessage, res: ServerResponse): void {
    const body = parsedBodyBytes((req as IncomingMessage & { body?: unknown }).body);
    if (body === undefined) {
      this.refuse(req, res, 400, 'the body was read before this handler and left no JSON in req.body');
      return;
    }
    if (body.length > this.#s.maxBodyBytes) {
      this.refuse(req, res, 413, `the body is larger than ${this.#s.maxBodyBytes} bytes`);
      return;
    }
    this.#answering.add(req.socket);
    this.#answer(req, res, body);
  }

  /** Requests accepted and not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** True while `socket` carries a request whose body has arrived and whose reply is not yet sent. */
  isAnswering(socket: Socket): boolean {
    return this.#answering.has(socket);
  }

  /** Reads the body under the cap and the body deadline, then answers. */
  #readBody(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (status: number, reason: string): void => {
      this.#bodies.delete(res);
      chunks.length = 0;
      req.off('data', onData);
      req.off('end', onEnd);
      req.pause();
      this.refuse(req, res, status, reason);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= this.#s.maxBodyBytes) chunks.push(chunk);
      else stop(413, `the body is larger than ${this.#s.maxBodyBytes} bytes`);
    };
    const onEnd = (): void => {
      this.#bodies.delete(res);
      this.#answering.add(req.socket);
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      this.#answer(req, res, body);
    };
    this.#bodies.add(res, () => stop(408, `the body did not arrive within ${this.#s.bodyTimeoutMs} ms`));
    req.on('data', onData);
    req.on('end', onEnd);
  }

  #answer(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const origin = httpOrigin(req);
    if (typeof origin === 'string') {
      this.refuse(req, res, 400, origin);
      return;
    }
    const requestId = origin.wire?.requestId;
    if (requestId !== undefined) res.setHeader('X-Request-Id', requestId);
    // The client hung up before its reply: whatever still runs for it is told (its signal aborts).
    res.once('close', () => {
      if (!res.writableFinished) origin.calls?.abortAll();
    });
    let message: unknown;
    try {
      message = this.#s.codec.decode(body);
    } catch (err) {
      // JSON-RPC over HTTP: a body that is not JSON still gets 200 with the -32700 reply.
      this.#send(res, 200, this.#encode(parseErrorResponse(err)));
      return;
    }
    // A batch runs one handler per element: it takes that many of the maxInFlight slots (the
    // request itself already holds one; a batch larger than the cap takes all of it, and one over
    // maxBatch is refused by the dispatcher), so a few batches cannot run thousands of handlers.
    const size = Array.isArray(message) ? message.length : 1;
    const extra = Math.min(size, this.#s.maxInFlight) - 1;
    if (extra > 0) {
      if (this.#inFlight + extra > this.#s.maxInFlight) {
        const reason = `a batch of ${size} needs more of the ${this.#s.maxInFlight} slots than are free: retry later`;
        this.refuse(req, res, 503, reason, { 'Retry-After': '1' });
        return;
      }
      this.#inFlight += extra;
      res.once('close', () => {
        this.#inFlight -= extra;
      });
    }
    let reply: unknown;
    try {
      reply = this.#s.dispatch(message, ndjsonOrigin(req, res, message, origin, this.#s));
    } catch (err) {
      this.#failed(res, message, err);
      return;
    }
    if (typeof (reply as PromiseLike<unknown> | undefined)?.then === 'function') {
      (reply as PromiseLike<unknown>).then(
        (value: unknown) => this.#reply(res, value),
        (err: unknown) => this.#failed(res, message, err),
      );
    } else this.#reply(res, reply);
  }

  #reply(res: ServerResponse, reply: unknown): void {
    if (res.destroyed) return;
    if (reply === undefined) {
      res.writeHead(204, { 'Cache-Control': 'no-store', ...this.#closeHeader() });
      res.end();
      return;
    }
    this.#send(res, 200, this.#encode(reply));
  }

  #failed(res: ServerResponse, message: unknown, err: unknown): void {
    this.#s.logger.error({ err }, 'http bridge: dispatch failed');
    if (!res.destroyed) this.#send(res, 500, this.#encode(internalErrors(message)));
  }

  #encode(reply: unknown): Buffer {
    try {
      return this.#s.isRaw ? Buffer.from(JSON.stringify(reply), 'utf8') : this.#s.codec.encode(reply);
    } catch (err) {
      this.#s.logger.warn({ err }, 'http bridge: a reply could not be encoded');
      return this.#s.codec.encode(repairReply(reply, (value) => this.#s.codec.encode(value)));
    }
  }

  #send(res: ServerResponse, status: number, body: Buffer): void {
    if (res.headersSent) return endNdjson(res, body); // a stream answered as NDJSON: the response is its last line
    const headers: Record<string, string | number> = { ...jsonHeaders, 'Content-Length': body.length };
    if (this.#s.isClosing()) headers.Connection = 'close';
    res.writeHead(status, headers);
    res.end(body);
  }

  #closeHeader(): { Connection?: 'close' } {
    return this.#s.isClosing() ? { Connection: 'close' } : {};
  }

  /**
   * An HTTP-level refusal with a JSON-RPC error body (id null; see refusalBody). When the request
   * still has an unread body, the connection is closed after the reply rather than reading that body.
   */
  refuse(
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
    const body = refusalBody(status, reason);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, {
      ...jsonHeaders,
      ...headers,
      'Content-Length': Buffer.byteLength(body),
      ...(hasUnreadBody || this.#s.isClosing() ? { Connection: 'close' } : {}),
    });
    res.end(body);
  }
}

/** A request handler for node:http / node:https, Express (`app.post('/api', ...)`) or Fastify (raw). */
export type HttpRequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The bridge's POST /api contract as a `(req, res) => void` to mount in the HTTP server an
 * application already runs: content types, caps, timeouts, token, Host and Origin checks and
 * JSON-RPC-shaped refusals, exactly as HttpBridge. Never throws and never calls `next`.
 */
export function createHttpHandler(options: HttpHandlerOptions): HttpRequestHandler {
  const api = new HttpApi(resolveHandlerOptions(options, undefined, () => false));
  return (req, res) => api.handle(req, res);
}
