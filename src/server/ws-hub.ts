// Every WebSocket of one server, for server code: pushes to one socket (by the peer address a
// handler sees as callContext().peer) or to every socket subscribed to a name, subscriptions made
// from server code, 'open' and 'close' events, and the drain of every endpoint on close. Sockets
// themselves are ws-session.ts's; the handshake and timers ws-endpoint.ts's.
import { EventEmitter } from 'node:events';
import { UsageError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { Logger } from '../log.js';
import { notificationMessage } from '../jsonrpc/index.js';
import type { JsonRpcParams } from '../jsonrpc/index.js';
import { createCodec, defaultRegistry } from '../serializable/index.js';
import type { Codec, Registry } from '../serializable/index.js';
import type { WsSession } from './ws-session.js';
import { closeCodes, pushParams, topicProblem } from './ws-rules.js';

export interface WebSocketHubOptions {
  /** Classes in pushed params are tagged with this registry (default: the default registry). */
  registry?: Registry;
  logger?: Logger;
}

/** What the hub asks of each endpoint that registers sockets with it. */
export interface HubEndpoint {
  close(timeoutMs: number): Promise<void>;
}

export interface WebSocketHubEvents {
  /** An authenticated socket: its peer address. */
  open: [peer: string];
  close: [peer: string];
}

export class WebSocketHub extends EventEmitter<WebSocketHubEvents> {
  readonly #codec: Codec;
  readonly #logger: Logger;
  readonly #byPeer = new Map<string, WsSession>();
  readonly #topics = new Map<string, Set<WsSession>>();
  readonly #endpoints = new Set<HubEndpoint>();

  constructor(options: WebSocketHubOptions = {}) {
    super();
    this.#codec = createCodec('json', { registry: options.registry ?? defaultRegistry });
    this.#logger = options.logger ?? silentLogger;
  }

  /** Authenticated sockets open now. */
  get size(): number {
    return this.#byPeer.size;
  }

  /** The peer addresses of the authenticated sockets. */
  peers(): string[] {
    return [...this.#byPeer.keys()];
  }

  /** Whether the socket of `peer` is subscribed to `topic`. */
  isSubscribed(peer: string, topic: string): boolean {
    return this.#byPeer.get(peer)?.topics.has(topic) === true;
  }

  /**
   * Pushes `{"jsonrpc":"2.0","method":topic,"params":params}` to every socket subscribed to
   * `topic`; returns how many it was sent to (a socket whose output is backed up is skipped).
   */
  publish(topic: string, params?: unknown): number {
    const subscribers = this.#topics.get(topic);
    if (subscribers === undefined) return 0;
    const frame = this.#frame(topic, params);
    let sent = 0;
    for (const session of subscribers) if (session.push(frame)) sent++;
    return sent;
  }

  /** Pushes a notification to the socket of `peer`; false when there is none or its output is backed up. */
  notify(peer: string, method: string, params?: unknown): boolean {
    const session = this.#byPeer.get(peer);
    return session?.push(this.#frame(method, params)) === true;
  }

  /** Subscribes the socket of `peer` to `topic` (server code may exceed maxSubscriptions); false when there is none. */
  subscribe(peer: string, topic: string): boolean {
    const problem = topicProblem(topic);
    if (problem !== undefined)
      throw new UsageError('GAW_ERR_INVALID_OPTION', `cannot subscribe to that name: ${problem}`);
    const session = this.#byPeer.get(peer);
    if (session === undefined) return false;
    this.addTopics(session, [topic]);
    return true;
  }

  unsubscribe(peer: string, topic: string): boolean {
    const session = this.#byPeer.get(peer);
    if (session === undefined) return false;
    this.removeTopics(session, [topic]);
    return true;
  }

  /** Closes the socket of `peer` (code 1000 unless given); false when there is none. */
  disconnect(peer: string, code: number = closeCodes.NORMAL, reason = ''): boolean {
    const session = this.#byPeer.get(peer);
    if (session === undefined) return false;
    session.close(code, reason);
    return true;
  }

  /** Drains every endpoint: calls in flight finish, then 1001; what is left after `timeoutMs` is dropped. */
  async close(timeoutMs = 10_000): Promise<void> {
    await Promise.all([...this.#endpoints].map((endpoint) => endpoint.close(timeoutMs)));
  }

  #frame(method: string, params: unknown): Buffer {
    if (typeof method !== 'string' || method === '')
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'a push needs a method name (a non-empty string)');
    return this.#codec.encode(notificationMessage(method, pushParams(params) as JsonRpcParams | undefined));
  }

  // For the endpoints (not for server code).

  /** @internal An endpoint whose sockets register here. */
  attachEndpoint(endpoint: HubEndpoint): void {
    this.#endpoints.add(endpoint);
  }

  /** @internal */
  detachEndpoint(endpoint: HubEndpoint): void {
    this.#endpoints.delete(endpoint);
  }

  /** @internal A socket that authenticated. */
  add(session: WsSession): void {
    const previous = this.#byPeer.get(session.peer);
    if (previous !== undefined && previous !== session) this.remove(previous);
    this.#byPeer.set(session.peer, session);
    this.#emit('open', session.peer);
  }

  /** @internal A socket that closed. */
  remove(session: WsSession): void {
    this.removeTopics(session, [...session.topics]);
    if (this.#byPeer.get(session.peer) !== session) return;
    this.#byPeer.delete(session.peer);
    this.#emit('close', session.peer);
  }

  /** @internal */
  addTopics(session: WsSession, topics: readonly string[]): void {
    for (const topic of topics) {
      session.topics.add(topic);
      let subscribers = this.#topics.get(topic);
      if (subscribers === undefined) {
        subscribers = new Set();
        this.#topics.set(topic, subscribers);
      }
      subscribers.add(session);
    }
  }

  /** @internal */
  removeTopics(session: WsSession, topics: readonly string[]): void {
    for (const topic of topics) {
      session.topics.delete(topic);
      const subscribers = this.#topics.get(topic);
      if (subscribers?.delete(session) && subscribers.size === 0) this.#topics.delete(topic);
    }
  }

  /** A listener that throws must not break the socket that triggered the event. */
  #emit(event: 'open' | 'close', peer: string): void {
    try {
      this.emit(event, peer);
    } catch (err) {
      this.#logger.error({ err, event }, 'websocket: a webSockets listener threw');
    }
  }
}
