// The browser client: `call`, `notify`, `batch` and typed proxies over one transport, HTTP POST
// (an http(s):// URL) or a reconnecting WebSocket (ws(s)://). Values cross with the portable
// class-tag registry; every call has a timeout and takes an AbortSignal; JSON-RPC errors arrive as
// RemoteError (an HTTP refusal of the bridge too, with data.httpStatus). Runs without Node built-ins.
import { AbortError, ProtocolError, RemoteError, TimeoutError, UsageError } from '../errors.js';
import { createProxy, createServicesProxy, isPlainObject, parseResponse } from '../jsonrpc/index.js';
import type { JsonRpcParams, ParsedResponse, ProxyDefaults, RemoteMethodOf, RemoteOf } from '../jsonrpc/index.js';
import { defaultRegistry } from '../serializable/portable.js';
import type { Registry } from '../serializable/portable.js';
import { HttpTransport } from './http-transport.js';
import { BrowserStream } from './stream.js';
import type { BrowserTransport, Exchange, NotificationListener } from './transport.js';
import { WebSocketTransport } from './ws-transport.js';
import type { WebSocketOptions } from './ws-transport.js';

export interface BrowserCallOptions {
  /** This call's timeout (default: the client's timeoutMs). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type Remote<T> = RemoteOf<T, BrowserCallOptions>;
export type RemoteMethod<A extends unknown[], R> = RemoteMethodOf<A, R, BrowserCallOptions>;
export type ServiceProxyOptions<T = unknown> = Omit<ProxyDefaults<T>, 'idempotent'>;

export interface BatchCall {
  method: string;
  params?: JsonRpcParams;
  /** Send as a notification: no reply, no entry in the results. */
  isNotification?: boolean;
}

export type BatchResult = { ok: true; result: unknown } | { ok: false; error: RemoteError };

export interface BrowserClientOptions extends WebSocketOptions {
  /** `http(s)://host:port/api` for POST, `ws(s)://host:port/api` for a WebSocket. */
  url: string;
  /** The bridge's bearer token (kept in memory only, sent as Authorization or in the first WebSocket message). */
  token?: string;
  /** Every call's timeout unless given one (default 30 s). */
  timeoutMs?: number;
  /** The class-tag registry values are encoded and decoded with (default: gaw/browser's defaultRegistry). */
  registry?: Registry;
  /** Called for each notification the server pushes (WebSocket only). */
  onNotification?: NotificationListener;
  /** Values are wire data already: sent and returned as they are, class tags untouched (default false). */
  isRaw?: boolean;
}

const defaults = { timeoutMs: 30_000 } as const;
const maxTimeoutMs = 2 ** 31 - 1;

function checkTimeout(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > maxTimeoutMs)
    throw new UsageError('GAW_ERR_INVALID_OPTION', `${name} must be an integer number of milliseconds from 1`);
  return value;
}

function checkCallOptions(options: BrowserCallOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'call options must be an object');
  for (const key of Object.keys(options))
    if (key !== 'timeoutMs' && key !== 'signal')
      throw new UsageError('GAW_ERR_INVALID_OPTION', `unknown call option ${JSON.stringify(key)}: timeoutMs or signal`);
  if (options.timeoutMs !== undefined) checkTimeout('timeoutMs', options.timeoutMs);
}

function checkRequest(method: unknown, params: unknown): void {
  if (typeof method !== 'string' || method.length === 0)
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'method must be a non-empty string');
  if (params !== undefined && (typeof params !== 'object' || params === null))
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'params must be an array (positional) or an object (named)');
}

export class GawBrowserClient {
  readonly #transport: BrowserTransport;
  readonly #registry: Registry;
  readonly #timeoutMs: number;
  readonly #isRaw: boolean;
  readonly #listeners = new Set<NotificationListener>();
  #nextId = 1;
  #isClosed = false;
  #services: ReturnType<typeof createServicesProxy> | undefined;

  constructor(options: BrowserClientOptions) {
    if (typeof options?.url !== 'string') throw new UsageError('GAW_ERR_INVALID_OPTION', 'url is required');
    const scheme = /^([a-z]+):\/\//i.exec(options.url)?.[1]?.toLowerCase();
    if (
      options.token !== undefined &&
      (typeof options.token !== 'string' || !/^[\x21-\x7e]{1,1024}$/.test(options.token))
    )
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'token must be 1 to 1024 visible ASCII characters');
    this.#timeoutMs = checkTimeout('timeoutMs', options.timeoutMs ?? defaults.timeoutMs);
    this.#registry = options.registry ?? defaultRegistry;
    this.#isRaw = options.isRaw === true;
    if (options.onNotification !== undefined) this.#listeners.add(options.onNotification);
    const push: NotificationListener = (method, params) => this.#push(method, params);
    if (scheme === 'http' || scheme === 'https') this.#transport = new HttpTransport(options.url, options.token);
    else if (scheme === 'ws' || scheme === 'wss')
      this.#transport = new WebSocketTransport(options.url, options.token, options, push);
    else throw new UsageError('GAW_ERR_INVALID_OPTION', 'url must start with http://, https://, ws:// or wss://');
  }

  /** Calls `method` and resolves with its decoded result; rejects with RemoteError, TimeoutError, AbortError... */
  async call(method: string, params?: JsonRpcParams, options: BrowserCallOptions = {}): Promise<unknown> {
    checkRequest(method, params);
    checkCallOptions(options);
    const id = this.#nextId++;
    const message = { jsonrpc: '2.0', id, method, ...(params !== undefined && { params: this.#encode(params) }) };
    const reply = await this.#exchange(message, options, method);
    const parsed = this.#parseOne(reply, method);
    if ('error' in parsed) throw new RemoteError(parsed.error.code, parsed.error.message, parsed.error.data);
    if (parsed.id !== id) throw new ProtocolError('GAW_ERR_BAD_RESPONSE', `the reply to ${method} has another id`);
    return this.#decode(parsed.result, 'result');
  }

  /** Sends a notification: no reply. Resolves once it was handed over (HTTP: answered 204). */
  async notify(method: string, params?: JsonRpcParams, options: BrowserCallOptions = {}): Promise<void> {
    checkRequest(method, params);
    checkCallOptions(options);
    const message = { jsonrpc: '2.0', method, ...(params !== undefined && { params: this.#encode(params) }) };
    const reply = await this.#exchange(message, options, method);
    if (reply !== undefined) {
      const parsed = this.#parseOne(reply, method);
      if ('error' in parsed) throw new RemoteError(parsed.error.code, parsed.error.message, parsed.error.data);
    }
  }

  /** Several calls in one JSON-RPC batch; results in the order of the non-notification calls. */
  async batch(calls: readonly BatchCall[], options: BrowserCallOptions = {}): Promise<BatchResult[]> {
    if (!Array.isArray(calls) || calls.length === 0)
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'a batch needs at least one call');
    checkCallOptions(options);
    const ids: number[] = [];
    const message = calls.map((c) => {
      checkRequest(c?.method, c?.params);
      const id = c.isNotification === true ? undefined : this.#nextId++;
      if (id !== undefined) ids.push(id);
      const params = c.params === undefined ? {} : { params: this.#encode(c.params) };
      return { jsonrpc: '2.0', ...(id !== undefined && { id }), method: c.method, ...params };
    });
    const reply = await this.#exchange(message, options, 'batch');
    if (ids.length === 0) return [];
    if (!Array.isArray(reply)) {
      // Refused whole (an HTTP refusal, or an invalid batch): every call gets the refusal.
      const parsed = this.#parseOne(reply, 'batch');
      if (!('error' in parsed)) throw new ProtocolError('GAW_ERR_BAD_RESPONSE', 'the reply to a batch is not an array');
      const error = new RemoteError(parsed.error.code, parsed.error.message, parsed.error.data);
      return ids.map(() => ({ ok: false, error }));
    }
    const byId = new Map<unknown, ParsedResponse>();
    for (const element of reply) {
      const parsed = this.#parseOne(element, 'batch');
      byId.set(parsed.id, parsed);
    }
    return ids.map((id): BatchResult => {
      const parsed = byId.get(id);
      if (parsed === undefined)
        throw new ProtocolError('GAW_ERR_BAD_RESPONSE', `the batch reply has no response for id ${id}`);
      if ('error' in parsed)
        return { ok: false, error: new RemoteError(parsed.error.code, parsed.error.message, parsed.error.data) };
      return { ok: true, result: this.#decode(parsed.result, 'result') };
    });
  }

  /** A streaming method's items (WebSocket only; the timeout bounds it all); leaving the loop cancels it. */
  stream<T = unknown>(method: string, params?: JsonRpcParams, options: BrowserCallOptions = {}): BrowserStream<T> {
    const transport = this.#transport;
    if (!(transport instanceof WebSocketTransport))
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'streams need a WebSocket: a ws:// or wss:// url');
    checkRequest(method, params);
    checkCallOptions(options);
    const id = this.#nextId++;
    const message = { jsonrpc: '2.0', id, method, ...(params !== undefined && { params: this.#encode(params) }) };
    return new BrowserStream<T>({
      decode: (wire) => this.#decode(wire, 'item'),
      signal: options.signal,
      open: (onItem, signal) =>
        this.#exchange(message, { ...options, signal }, method, (ex) => transport.stream(message, ex, onItem)),
    });
  }

  /** A typed proxy: `client.service<MathService>('math_service').plus(1, 2)`; per call `.plus.with({ signal })(1, 2)`. */
  service<T>(name: string, options: ServiceProxyOptions<T> = {}): Remote<T> {
    return createProxy<T, BrowserCallOptions>(
      name,
      (method, params, _isIdempotent, callOptions) => this.call(method, params, callOptions),
      options,
      checkCallOptions,
    );
  }

  /** The dynamic form: `client.services.math_service.plus(10, 20)`. */
  get services(): Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>> {
    this.#services ??= createServicesProxy((name) => this.service(name));
    return this.#services;
  }

  /** Calls `listener(method, params)` for each notification the server pushes; returns the unsubscribe function. */
  onNotification(listener: NotificationListener): () => void {
    if (typeof listener !== 'function')
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'the listener must be a function');
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Subscribes to events the server publishes by name (WebSocket only); renewed on every reconnect. */
  subscribe(names: readonly string[], options: BrowserCallOptions = {}): Promise<void> {
    return this.#subscription(names, options, true);
  }

  unsubscribe(names: readonly string[], options: BrowserCallOptions = {}): Promise<void> {
    return this.#subscription(names, options, false);
  }

  async #subscription(names: readonly string[], options: BrowserCallOptions, isSubscribe: boolean): Promise<void> {
    if (!(this.#transport instanceof WebSocketTransport))
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'subscriptions need a WebSocket: a ws:// or wss:// url');
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string'))
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'names must be a non-empty array of event names');
    checkCallOptions(options);
    const transport = this.#transport;
    const reply = await this.#exchange(undefined, options, 'rpc.subscribe', (exchange) =>
      transport.subscribe(names, exchange, isSubscribe),
    );
    const parsed = this.#parseOne(reply, 'rpc.subscribe');
    if ('error' in parsed) throw new RemoteError(parsed.error.code, parsed.error.message, parsed.error.data);
  }

  /** Closes the transport; calls in flight reject with GAW_ERR_CLOSED or GAW_ERR_CONN_CLOSED. Idempotent. */
  close(): void {
    this.#isClosed = true;
    this.#transport.close();
  }

  #encode(params: JsonRpcParams): unknown {
    return this.#isRaw ? params : this.#registry.encode(params, { path: 'params' });
  }

  #decode(wire: unknown, path: string): unknown {
    return this.#isRaw ? wire : this.#registry.decode(wire, { path });
  }

  #push(method: string, params: unknown): void {
    let decoded: unknown;
    try {
      decoded = this.#decode(params, 'params');
    } catch {
      decoded = params; // an unknown tag: the listener still hears of it, as wire data
    }
    for (const listener of this.#listeners) {
      try {
        listener(method, decoded);
      } catch (err) {
        queueMicrotask(() => {
          throw err; // reported as the page's own uncaught error, never lost, never breaking the client
        });
      }
    }
  }

  #parseOne(reply: unknown, what: string): ParsedResponse {
    if (!isPlainObject(reply))
      throw new ProtocolError('GAW_ERR_BAD_RESPONSE', `the reply to ${what} is not a JSON-RPC response`);
    return parseResponse(reply);
  }

  /** Sends `message` under the call's timeout and signal; the reason is a TimeoutError or an AbortError. */
  async #exchange(
    message: unknown,
    options: BrowserCallOptions,
    what: string,
    send: (exchange: Exchange) => Promise<unknown> = (exchange) => this.#transport.send(message, exchange),
  ): Promise<unknown> {
    if (this.#isClosed) throw new UsageError('GAW_ERR_CLOSED', 'the client is closed');
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const { signal } = options;
    if (signal?.aborted) throw new AbortError(`${what} was aborted before it was sent`, { cause: signal.reason });
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new TimeoutError('GAW_ERR_CALL_TIMEOUT', `${what} got no reply within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = (): void => controller.abort(new AbortError(`${what} was aborted`, { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await send({ signal: controller.signal, timeoutMs });
    } catch (err) {
      throw controller.signal.aborted ? controller.signal.reason : err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
