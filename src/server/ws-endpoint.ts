// The WebSocket endpoint on /api: loads `ws` (an optional peer dependency) when asked for, checks
// each upgrade as POST /api is checked (Host, Origin, a token in the subprotocol, never one in the
// URL, the socket cap) and refuses with the same JSON-RPC bodies, then owns the sockets' timers:
// the rpc.auth deadline, pings, and the drain of a backed-up output. Sockets are ws-session.ts's.
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { UsageError } from '../errors.js';
import { Deadlines } from './http-deadlines.js';
import { siteOf } from './http-hosts.js';
import type { HttpApiSettings } from './http-options.js';
import { refusalBody } from './http-rules.js';
import type { WebSocketHub } from './ws-hub.js';
import type { WebSocketSettings } from './ws-options.js';
import { WsSession, closeHandshakeMs } from './ws-session.js';
import type { SessionOwner, WsSocket } from './ws-session.js';
import { bearerFromProtocols, closeCodes, hasTokenInQuery, isTokenRight, jsonRpcProtocol } from './ws-rules.js';

interface WsServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: WsSocket) => void): void;
}
type WsServerClass = new (options: Record<string, unknown>) => WsServer;

let wsModule: Promise<WsServerClass> | undefined;

/** `ws`'s WebSocketServer, imported on first use; a clear error naming the package when it is missing. */
export function loadWebSocketServer(): Promise<WsServerClass> {
  wsModule ??= import('ws').then(
    (m) =>
      (m.WebSocketServer ??
        (m as unknown as { default: { WebSocketServer: WsServerClass } }).default
          .WebSocketServer) as unknown as WsServerClass,
    (err: unknown) => {
      wsModule = undefined;
      throw new UsageError(
        'GAW_ERR_MISSING_DEPENDENCY',
        'the WebSocket endpoint needs the package ws: npm install ws',
        { cause: err },
      );
    },
  );
  return wsModule;
}

export class WsEndpoint implements SessionOwner {
  readonly settings: HttpApiSettings;
  readonly ws: WebSocketSettings;
  readonly #hub: WebSocketHub;
  readonly #server: WsServer;
  readonly #sessions = new Set<WsSession>();
  /** The TCP socket under each session, so a bridge making room keeps authenticated ones. */
  readonly #bySocket = new WeakMap<Duplex, WsSession>();
  readonly #authDeadlines: Deadlines<WsSession>;
  readonly #drainDeadlines: Deadlines<WsSession>;
  #pingTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  constructor(settings: HttpApiSettings, ws: WebSocketSettings, hub: WebSocketHub, Server: WsServerClass) {
    this.settings = settings;
    this.ws = ws;
    this.#hub = hub;
    this.#authDeadlines = new Deadlines(ws.authTimeoutMs);
    this.#drainDeadlines = new Deadlines(ws.drainTimeoutMs);
    this.#server = new Server({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: ws.maxMessageBytes,
      closeTimeout: closeHandshakeMs, // for the closes ws itself starts (1002, 1007, 1009)
      handleProtocols: (protocols: Set<string>) => (protocols.has(jsonRpcProtocol) ? jsonRpcProtocol : false),
    });
    hub.attachEndpoint(this);
  }

  /** Sockets open now, authenticated or not. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Takes one upgrade request; never throws (a fault is logged and the socket dropped). */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    try {
      this.#handle(req, socket, head);
    } catch (err) {
      this.settings.logger.error({ err }, 'websocket: an upgrade could not be handled');
      socket.destroy();
    }
  }

  #handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const s = this.settings;
    if (this.#closing !== undefined) return refuseUpgrade(socket, 503, 'the server is shutting down', true);
    if (req.method !== 'GET') return refuseUpgrade(socket, 405, 'a WebSocket upgrade is a GET');
    if (req.headers.upgrade?.toLowerCase() !== 'websocket')
      return refuseUpgrade(socket, 400, 'only Upgrade: websocket is taken on /api');
    const site = siteOf(req);
    const peer = `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? 0}`;
    const misdirected = s.hostPolicy.checkHost(site);
    if (misdirected !== undefined) {
      s.logger.warn({ peer }, 'websocket: a Host that does not name this server');
      return refuseUpgrade(socket, 421, misdirected);
    }
    const foreign = s.hostPolicy.checkOrigin(site);
    if (foreign !== undefined) {
      s.logger.warn({ peer }, 'websocket: an upgrade from a foreign web origin');
      return refuseUpgrade(socket, 403, foreign);
    }
    if (hasTokenInQuery(req.url))
      return refuseUpgrade(socket, 400, 'a token is never taken from the URL: send it in rpc.auth or the subprotocol');
    const offered = bearerFromProtocols(req.headers['sec-websocket-protocol']);
    let isAuthenticated = s.tokenHash === undefined;
    if (offered !== undefined && s.tokenHash !== undefined) {
      if (!isTokenRight(offered, s.tokenHash)) {
        s.logger.warn({ peer }, 'websocket: wrong bearer token');
        return refuseUpgrade(socket, 401, 'wrong bearer token');
      }
      isAuthenticated = true;
    }
    if (this.#sessions.size >= this.ws.maxSockets)
      return refuseUpgrade(socket, 503, `${this.ws.maxSockets} WebSockets are open: retry later`, true);
    this.#server.handleUpgrade(req, socket, head, (ws) => this.#open(ws, socket, peer, isAuthenticated));
  }

  /** True when `socket` carries an authenticated WebSocket (never shed to make room). */
  isKept(socket: Duplex): boolean {
    return this.#bySocket.get(socket)?.isAuthenticated === true;
  }

  #open(ws: WsSocket, socket: Duplex, peer: string, isAuthenticated: boolean): void {
    if (this.#closing !== undefined) {
      ws.close(closeCodes.GOING_AWAY, 'server shutting down');
      return;
    }
    const session = new WsSession(ws, peer, isAuthenticated, this);
    this.#sessions.add(session);
    this.#bySocket.set(socket, session);
    if (!isAuthenticated)
      this.#authDeadlines.add(session, () =>
        session.close(closeCodes.UNAUTHORIZED, `unauthorized: no rpc.auth within ${this.ws.authTimeoutMs} ms`),
      );
    this.#pingTimer ??= setInterval(() => this.#sweep(), this.ws.pingIntervalMs).unref();
  }

  /** Drops sockets silent for a whole interval while read, and pings the rest. */
  #sweep(): void {
    for (const session of this.#sessions) {
      if (!session.isReading) continue;
      if (session.isSilent) {
        this.settings.logger.info({ peer: session.peer }, 'websocket: no pong within the ping interval; dropped');
        session.socket.terminate();
        continue;
      }
      session.isSilent = true;
      session.socket.ping();
    }
  }

  authenticated(session: WsSession): void {
    this.#authDeadlines.delete(session);
    this.#hub.add(session);
  }

  subscribe(session: WsSession, topics: readonly string[]): void {
    this.#hub.addTopics(session, topics);
  }

  unsubscribe(session: WsSession, topics: readonly string[]): void {
    this.#hub.removeTopics(session, topics);
  }

  outputBacklog(session: WsSession, isOver: boolean): void {
    if (!isOver) return;
    this.#drainDeadlines.add(session, () => {
      this.settings.logger.warn({ peer: session.peer }, 'websocket: the client does not read its replies; dropped');
      session.socket.terminate();
    });
    // A ping goes out after everything already buffered: its callback means the output drained.
    session.socket.ping(undefined, undefined, (err) => {
      if (err !== undefined && err !== null) return;
      this.#drainDeadlines.delete(session);
      session.drained();
    });
  }

  closed(session: WsSession): void {
    this.#sessions.delete(session);
    this.#authDeadlines.delete(session);
    this.#drainDeadlines.delete(session);
    this.#hub.remove(session);
    if (this.#sessions.size === 0 && this.#pingTimer !== undefined) {
      clearInterval(this.#pingTimer);
      this.#pingTimer = undefined;
    }
    this.#whenEmpty?.();
  }

  #whenEmpty: (() => void) | undefined;

  /** New upgrades get 503; each socket closes with 1001 once its calls are answered; dropped after `timeoutMs`. */
  close(timeoutMs: number): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      const finish = (): void => {
        if (this.#sessions.size > 0) return;
        clearTimeout(timer);
        this.#hub.detachEndpoint(this);
        resolve();
      };
      const timer = setTimeout(() => {
        for (const session of this.#sessions) session.socket.terminate();
      }, timeoutMs).unref();
      this.#whenEmpty = finish;
      for (const session of this.#sessions) session.beginClose();
      finish();
    });
    return this.#closing;
  }
}

/** Sends a server's upgrades on /api to `endpoint`, and answers any other path 404. */
export function routeUpgrades(server: Server, endpoint: WsEndpoint): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    if ((query < 0 ? url : url.slice(0, query)) === '/api') endpoint.handle(req, socket, head);
    else refuseUpgrade(socket, 404, 'not found: the WebSocket endpoint is /api');
  });
}

/** Answers an upgrade with an HTTP refusal carrying a JSON-RPC error body, then closes the socket. */
function refuseUpgrade(socket: Duplex, status: number, reason: string, isRetryable = false): void {
  const body = refusalBody(status, reason);
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Content-Type: application/json',
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...(status === 401 ? ['WWW-Authenticate: Bearer'] : []),
    ...(isRetryable ? ['Retry-After: 1'] : []),
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
}
