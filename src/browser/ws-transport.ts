// The browser client's WebSocket transport, to the contract in docs/http-bridge.md ("WebSocket on
// /api"): subprotocol gaw.jsonrpc, the token in a first `rpc.auth` message (never in the URL),
// replies matched by id, the call's budget in the `gaw` member, `rpc.cancel` when a call is given
// up, pushes (messages without an id) handed to the client, a stream's rpc.stream items to its
// iterator (gaw.stream), and reconnecting with a capped,
// jittered backoff; subscriptions are renewed on each new socket. A wrong token stops reconnecting.
import { ConnectionError, RemoteError, UsageError } from '../errors.js';
import { isPlainObject } from '../jsonrpc/index.js';
import type { BrowserTransport, Exchange, NotificationListener } from './transport.js';

/** The part of the WHATWG WebSocket the transport uses (a browser's, or the `ws` package's in Node). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: any) => void): void;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface WebSocketOptions {
  /** Wait before the first reconnect (default 250 ms); it doubles up to maxReconnectDelayMs, jittered. */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** The WebSocket class (default: the global one; in Node 20, pass `ws`'s). */
  WebSocket?: WebSocketConstructor;
}

const authId = 0;

interface Pending {
  /** The ids still awaited; one frame answers a request or a whole batch. */
  readonly ids: readonly number[];
  resolve(reply: unknown): void;
  reject(err: unknown): void;
}

interface Waiting {
  send(): void;
  reject(err: unknown): void;
}

export class WebSocketTransport implements BrowserTransport {
  readonly #url: string;
  readonly #token: string | undefined;
  readonly #push: NotificationListener;
  readonly #WebSocket: WebSocketConstructor;
  readonly #minDelayMs: number;
  readonly #maxDelayMs: number;
  /** By every id of each request or batch sent (a batch's ids share one entry). */
  readonly #pending = new Map<number, Pending>();
  /** Sends made while no authenticated socket is open, run when one is. */
  readonly #waiting = new Set<Waiting>();
  readonly #subscriptions = new Set<string>();
  /** Where each streaming request's rpc.stream items go, by its id. */
  readonly #items = new Map<number, (item: unknown) => void>();
  #socket: WebSocketLike | undefined;
  #isReady = false;
  #failures = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set when closed by the caller, or for good (a wrong token). */
  #fatal: Error | undefined;

  constructor(url: string, token: string | undefined, options: WebSocketOptions, push: NotificationListener) {
    const ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (typeof ctor !== 'function')
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'no WebSocket here: pass options.WebSocket (in Node, `ws`)');
    if (/[?&](access_)?token=/i.test(url))
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'never put the token in the URL: pass options.token');
    this.#url = url;
    this.#token = token;
    this.#push = push;
    this.#WebSocket = ctor;
    this.#minDelayMs = options.reconnectDelayMs ?? 250;
    this.#maxDelayMs = Math.max(this.#minDelayMs, options.maxReconnectDelayMs ?? 5_000);
  }

  send(message: unknown, exchange: Exchange, isStream = false): Promise<unknown> {
    if (this.#fatal) return Promise.reject(this.#fatal);
    const elements = Array.isArray(message) ? message : [message];
    const ids = elements.flatMap((m) => (isPlainObject(m) && typeof m.id === 'number' ? [m.id] : []));
    const deadline = Date.now() + exchange.timeoutMs;
    return new Promise((resolve, reject) => {
      let isSent = false;
      const waiting: Waiting = {
        send: () => {
          this.#waiting.delete(waiting);
          // What is left of the budget: a call may have waited for the socket.
          const gaw = { timeoutMs: Math.max(0, deadline - Date.now()), ...(isStream && { stream: true }) };
          const withBudget = Array.isArray(message)
            ? [{ ...message[0], gaw }, ...message.slice(1)]
            : { ...(message as object), gaw };
          const pending = { ids, resolve, reject };
          for (const id of ids) this.#pending.set(id, pending);
          this.#socket!.send(JSON.stringify(withBudget));
          isSent = true;
          if (ids.length === 0) resolve(undefined);
        },
        reject,
      };
      exchange.signal.addEventListener('abort', () => {
        this.#waiting.delete(waiting);
        if (isSent && ids.length > 0 && this.#pending.has(ids[0]!)) {
          for (const id of ids) this.#pending.delete(id);
          this.#cancel(ids);
        }
        reject(exchange.signal.reason);
      });
      if (this.#isReady) waiting.send();
      else {
        this.#waiting.add(waiting);
        this.#connect();
      }
    });
  }

  /** Sends a request that streams (gaw.stream): its rpc.stream items go to onItem; resolves with its response. */
  stream(message: { id: number }, exchange: Exchange, onItem: (item: unknown) => void): Promise<unknown> {
    this.#items.set(message.id, onItem);
    return this.send(message, exchange, true).finally(() => this.#items.delete(message.id));
  }

  /** Subscribes this client to pushed event names, now and on every later socket. */
  async subscribe(names: readonly string[], exchange: Exchange, isSubscribe: boolean): Promise<unknown> {
    for (const name of names) {
      if (isSubscribe) this.#subscriptions.add(name);
      else this.#subscriptions.delete(name);
    }
    // A fresh id well above the client's: subscription replies are only checked for errors.
    return this.send(
      { jsonrpc: '2.0', id: nextControlId--, method: isSubscribe ? 'rpc.subscribe' : 'rpc.unsubscribe', params: names },
      exchange,
    );
  }

  close(): void {
    this.#fatal ??= new UsageError('GAW_ERR_CLOSED', 'the client is closed');
    clearTimeout(this.#retryTimer);
    this.#failAll(this.#fatal);
    this.#socket?.close(1000);
    this.#socket = undefined;
  }

  #cancel(ids: readonly number[]): void {
    if (!this.#isReady) return;
    for (const id of ids) this.#socket!.send(JSON.stringify({ jsonrpc: '2.0', method: 'rpc.cancel', params: { id } }));
  }

  #connect(): void {
    if (this.#socket !== undefined || this.#retryTimer !== undefined || this.#fatal) return;
    const socket = new this.#WebSocket(this.#url, 'gaw.jsonrpc');
    this.#socket = socket;
    socket.addEventListener('open', () => {
      if (this.#token === undefined) this.#ready();
      else
        socket.send(JSON.stringify({ jsonrpc: '2.0', id: authId, method: 'rpc.auth', params: { token: this.#token } }));
    });
    socket.addEventListener('message', (event: { data: unknown }) => this.#onMessage(socket, event.data));
    socket.addEventListener('close', (event: { code: number; reason: string }) => this.#onClose(socket, event.code));
    // An 'error' is always followed by 'close'; the close decides.
    socket.addEventListener('error', () => {});
  }

  #ready(): void {
    this.#isReady = true;
    this.#failures = 0;
    if (this.#subscriptions.size > 0)
      this.#socket!.send(JSON.stringify({ jsonrpc: '2.0', method: 'rpc.subscribe', params: [...this.#subscriptions] }));
    for (const waiting of [...this.#waiting]) waiting.send();
  }

  #onMessage(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.#socket || typeof data !== 'string') return;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return; // not JSON: nothing can be matched to it
    }
    const first = Array.isArray(message) ? message[0] : message;
    if (!isPlainObject(first)) return;
    if (!this.#isReady && first.id === authId) {
      if (first.result === true) this.#ready();
      else {
        const error = isPlainObject(first.error) ? first.error : {};
        this.#fatal = new RemoteError(
          typeof error.code === 'number' ? error.code : -32600,
          typeof error.message === 'string' ? error.message : 'Invalid Request: wrong bearer token',
          error.data ?? { httpStatus: 401 },
        );
        this.#failAll(this.#fatal);
      }
      return;
    }
    if (!Object.hasOwn(first, 'id') && typeof first.method === 'string') {
      const item = first.method === 'rpc.stream' && isPlainObject(first.params) ? first.params : undefined;
      if (typeof item?.id === 'number') this.#items.get(item.id)?.(item.item);
      else this.#push(first.method, first.params);
      return;
    }
    // A reply: a request's, or a batch's array (found by any of its ids). A refusal (id null)
    // cannot be matched: the server closes the socket after it, failing what is pending.
    for (const element of Array.isArray(message) ? message : [message]) {
      const pending =
        isPlainObject(element) && typeof element.id === 'number' ? this.#pending.get(element.id) : undefined;
      if (pending === undefined) continue;
      for (const id of pending.ids) this.#pending.delete(id);
      pending.resolve(message);
      return;
    }
  }

  #onClose(socket: WebSocketLike, code: number): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    const wasReady = this.#isReady;
    this.#isReady = false;
    if (code === 4401 && this.#fatal === undefined)
      this.#fatal = new RemoteError(-32600, 'Invalid Request: unauthorized (WebSocket closed with 4401)', {
        httpStatus: 401,
      });
    // Calls on a socket closed with 4401 were not run: they get the refusal, as later calls do.
    const lost =
      this.#fatal ??
      new ConnectionError(
        'GAW_ERR_CONN_CLOSED',
        `the WebSocket to ${this.#url} closed (code ${code}) before the reply`,
      );
    for (const pending of new Set(this.#pending.values())) pending.reject(lost);
    this.#pending.clear();
    if (this.#fatal) {
      this.#failAll(this.#fatal);
      return;
    }
    if (!wasReady) {
      // The socket never opened (the bridge is down, or refused the upgrade: a browser is told no
      // more than 1006). What waited for it fails now, unsent, rather than at its timeout.
      this.#failures++;
      const refused = new ConnectionError(
        'GAW_ERR_CONN_REFUSED',
        `could not open a WebSocket to ${this.#url} (code ${code}): the bridge is down or refused the upgrade`,
      );
      for (const waiting of [...this.#waiting]) waiting.reject(refused);
      this.#waiting.clear();
    }
    if (this.#waiting.size === 0 && this.#subscriptions.size === 0) return; // reconnect on the next send
    const delayMs = Math.min(this.#maxDelayMs, this.#minDelayMs * 2 ** Math.min(this.#failures, 16));
    this.#retryTimer = setTimeout(
      () => {
        this.#retryTimer = undefined;
        this.#connect();
      },
      delayMs * (0.5 + Math.random() / 2),
    );
  }

  #failAll(err: Error): void {
    for (const pending of new Set(this.#pending.values())) pending.reject(err);
    this.#pending.clear();
    for (const waiting of [...this.#waiting]) waiting.reject(err);
    this.#waiting.clear();
  }
}

/** Ids for the transport's own requests (subscriptions), counting down from -1 so they never meet the client's. */
let nextControlId = -1;
