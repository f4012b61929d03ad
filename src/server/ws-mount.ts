// The WebSocket part of an HTTP server that serves /api (the bridge's, or the application's own
// through httpUpgradeHandler()): off unless asked for, `ws` loaded when started, upgrades routed,
// and its sockets drained on close. The endpoint itself is ws-endpoint.ts.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from '../serializable/index.js';
import { resolveHandlerOptions } from './http-options.js';
import type { HttpApiSettings, HttpHandlerOptions } from './http-options.js';
import { WsEndpoint, loadWebSocketServer, routeUpgrades } from './ws-endpoint.js';
import { WebSocketHub } from './ws-hub.js';
import { resolveWebSocketOptions } from './ws-options.js';
import type { WebSocketOptions, WebSocketSettings } from './ws-options.js';

export class WebSocketMount {
  readonly hub: WebSocketHub;
  readonly #settings: HttpApiSettings;
  readonly #ws: WebSocketSettings | undefined;
  #endpoint: WsEndpoint | undefined;

  /** Validates the options now (a bad one throws); nothing is loaded before start(). */
  constructor(
    websocket: boolean | WebSocketOptions | undefined,
    settings: HttpApiSettings,
    hub: WebSocketHub | undefined,
    registry: Registry | undefined,
  ) {
    this.#settings = settings;
    this.#ws =
      websocket === undefined || websocket === false
        ? undefined
        : resolveWebSocketOptions(websocket, settings.maxBodyBytes);
    this.hub = hub ?? new WebSocketHub({ registry, logger: settings.logger });
  }

  /** Loads `ws` when WebSocket is on (a missing package rejects, naming it) and routes `server`'s upgrades on /api. */
  async start(server?: Server): Promise<WsEndpoint | undefined> {
    if (this.#ws === undefined) return undefined;
    this.#endpoint ??= new WsEndpoint(this.#settings, this.#ws, this.hub, await loadWebSocketServer());
    if (server !== undefined) routeUpgrades(server, this.#endpoint);
    return this.#endpoint;
  }

  /** True when `socket` carries an authenticated WebSocket (a bridge making room keeps it). */
  isKept(socket: Duplex): boolean {
    return this.#endpoint?.isKept(socket) === true;
  }

  close(timeoutMs: number): Promise<void> {
    return this.#endpoint?.close(timeoutMs) ?? Promise.resolve();
  }
}

/** For an HTTP server's 'upgrade' event (`app.on('upgrade', handler)`); route only /api to it. */
export interface HttpUpgradeHandler {
  (req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Where its sockets are, for pushes. */
  readonly webSockets: WebSocketHub;
  /** Drains its sockets: calls in flight finish, then 1001; the rest are dropped after `timeoutMs` (default 10 s). */
  close(timeoutMs?: number): Promise<void>;
}

export interface HttpUpgradeOptions extends HttpHandlerOptions {
  /** The WebSocket limits (default: all defaults). */
  websocket?: true | WebSocketOptions;
  /** Where its sockets register for pushes (default: a hub of its own, `handler.webSockets`). */
  webSockets?: WebSocketHub;
}

/**
 * The bridge's WebSocket endpoint as an 'upgrade' listener for an HTTP server the application
 * runs: the same checks and wire as the bridge's /api. Loads `ws` (rejects, naming it, when missing).
 */
export async function createHttpUpgradeHandler(options: HttpUpgradeOptions): Promise<HttpUpgradeHandler> {
  const settings = resolveHandlerOptions(options, undefined, () => false);
  const mount = new WebSocketMount(options.websocket ?? true, settings, options.webSockets, options.registry);
  const endpoint = (await mount.start()) as WsEndpoint;
  const handler = (req: IncomingMessage, socket: Duplex, head: Buffer): void => endpoint.handle(req, socket, head);
  return Object.assign(handler, {
    webSockets: mount.hub,
    close: (timeoutMs = 10_000) => endpoint.close(timeoutMs),
  });
}
