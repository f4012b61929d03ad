// GawClient: calls services through one Transport (pooled GAWP/1 connections, or Python Gaw 0.7's
// wire), with a timeout on every call, AbortSignal support, typed proxies, and retries only when
// they are safe. Options and the transport they describe are in options.ts; retries in
// retrying.ts; the GAWP/1 pool in gawp-transport.ts, pool.ts and rpc-connection.ts; streams in
// remote-stream.ts.
import { RemoteError, UsageError } from '../errors.js';
import { callContext } from '../context.js';
import type { CallContext } from '../context.js';
import type { JsonRpcParams } from '../jsonrpc/index.js';
import { createRawJsonCodec } from '../serializable/index.js';
import type { Codec } from '../serializable/index.js';
import { parseEndpoints } from './endpoints.js';
import { callerDeadlinePassed, checkParams, replyError, withCallerStack } from './outcomes.js';
import { clientCall, outgoingContext, presentContext } from './outgoing-context.js';
import { callBounds, checkMethod, optionsProblem } from './call-checks.js';
import { checkCallOptions, resolveClientOptions } from './options.js';
import type { BatchCall, CallOptions, GawClientOptions } from './options.js';
import { createServiceProxy, createServicesProxy } from './proxy.js';
import type { Remote, ServiceProxyOptions } from './proxy.js';
import type { Endpoint } from './pool.js';
import type { Attempt, Outcome, OutgoingContext, Transport } from './transport.js';
import { GawEvents, inheritEventsOptions } from '../events/index.js';
import { runChain } from '../observe/index.js';
import type { ClientInterceptor, MetricsRegistry } from '../observe/index.js';
import type { RemoteStream } from './remote-stream.js';
import { openStream } from './open-stream.js';
import type { RegistryWatcher, WatchEvent } from '../registry/index.js';
import { noDiscovery } from './registry-transport.js';

export type BatchResult = { ok: true; result: unknown } | { ok: false; error: RemoteError };

const noOptions: CallOptions = Object.freeze({});

export class GawClient {
  readonly #transport: Transport;
  readonly #codec: Codec;
  readonly #timeoutMs: number;
  readonly #idempotent: ReadonlySet<string>;
  /** Set only when interceptors are registered: without them no call pays for the hook. */
  readonly #chain: readonly ClientInterceptor[] | undefined;
  readonly #peer: string;
  #rawCodec: Codec | undefined;
  #isClosed = false;
  #services: ReturnType<typeof createServicesProxy> | undefined;
  readonly #events: GawEvents | undefined;
  readonly #watcher: RegistryWatcher | undefined;
  #closed: Promise<void> | undefined;
  /** The prom-client Registry of the `metrics` option (serve it, or read it in tests); undefined when off. */
  readonly metrics: MetricsRegistry | undefined;

  constructor(options: GawClientOptions = {}) {
    const resolved = resolveClientOptions(options);
    this.#transport = resolved.transport;
    this.#codec = resolved.transport.codec;
    this.#timeoutMs = resolved.timeoutMs;
    this.#idempotent = resolved.idempotent;
    this.#chain = resolved.interceptors;
    this.#peer = resolved.peer;
    this.metrics = resolved.metrics;
    this.#watcher = resolved.watcher;
    if (options.events !== undefined) {
      const { secret, registry, logger, maxDepth } = options;
      const inherited = {
        secret,
        discovery: options.discovery,
        ...(registry && { registry }),
        ...(logger && { logger }),
        ...(maxDepth && { maxDepth }),
      };
      this.#events = new GawEvents(inheritEventsOptions(options.events, inherited, 'GawClient'));
    }
  }

  /** Events on Redis (the `events` option): broadcast, emit, on; undefined without the option. Closed with the client. */
  get events(): GawEvents | undefined {
    return this.#events;
  }

  /** Calls `service.method` with positional (array) or named (object) params; resolves to the result. */
  call<R = unknown>(method: string, params?: JsonRpcParams, options: CallOptions = noOptions): Promise<R> {
    if (options !== noOptions) {
      const problem = optionsProblem(options);
      if (problem !== undefined) return Promise.reject(problem);
    }
    const isIdempotent = options.isIdempotent ?? this.#idempotent.has(method);
    return this.#callOne(method, params, isIdempotent, options, this.#codec) as Promise<R>;
  }

  /**
   * Like call, for bridges and tools that hold wire data rather than values: `params` go out as
   * given (class tags included, never re-tagged) and the result comes back undecoded. JSON codec only.
   */
  callRaw(method: string, params?: JsonRpcParams, options: CallOptions = noOptions): Promise<unknown> {
    const problem = optionsProblem(options);
    if (problem !== undefined) return Promise.reject(problem);
    const raw = this.#raw();
    if (raw instanceof Error) return Promise.reject(raw);
    const isIdempotent = options.isIdempotent ?? this.#idempotent.has(method);
    return this.#callOne(method, params, isIdempotent, options, raw);
  }

  /** Sends a notification: no reply. The promise settles once it is handed to a connection. */
  notify(
    method: string,
    params?: JsonRpcParams,
    options: { signal?: AbortSignal; isRaw?: boolean } = {},
  ): Promise<void> {
    try {
      if (this.#isClosed) throw new UsageError('GAW_ERR_CLOSED', 'the client is closed');
      checkMethod(method);
      let codec = this.#codec;
      if (options.isRaw === true) {
        const raw = this.#raw();
        if (raw instanceof Error) throw raw;
        codec = raw;
      }
      return this.#transport.notify({ method, params: checkParams(params), codec }, options.signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Sends several calls in one JSON-RPC batch; results in the order of the non-notification calls. */
  async batch(calls: readonly BatchCall[], options: CallOptions = noOptions): Promise<BatchResult[]> {
    if (options !== noOptions) checkCallOptions(options);
    if (!Array.isArray(calls) || calls.length === 0)
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'a batch needs at least one call');
    if (this.#isClosed) throw new UsageError('GAW_ERR_CLOSED', 'the client is closed');
    const checked = calls.map((c) => {
      checkMethod(c.method);
      return { method: c.method, params: checkParams(c.params), isNotification: c.isNotification === true };
    });
    let outcomes: Outcome[];
    const parent = options.isRoot === true ? undefined : callContext();
    try {
      const attempt = callBounds(this.#timeoutMs, 'batch', options, parent);
      if (attempt.timeoutMs === 0) throw callerDeadlinePassed('batch');
      outcomes = await this.#transport.batch(checked, attempt, outgoingContext(parent, options));
    } catch (err) {
      if (!(err instanceof RemoteError)) throw withCallerStack(err);
      // Refused whole and out of retries: every call gets the refusal.
      const error = { code: err.rpcCode, message: err.message, data: err.data };
      outcomes = checked.filter((c) => !c.isNotification).map(() => ({ error }));
    }
    return outcomes.map(
      (outcome): BatchResult =>
        'error' in outcome
          ? { ok: false, error: new RemoteError(outcome.error.code, outcome.error.message, outcome.error.data) }
          : { ok: true, result: this.#codec.revive(outcome.result) },
    );
  }

  /**
   * Calls a method that streams its result (an async generator on the server): iterate what this
   * returns, `for await (const row of client.stream('db.scan', [q]))`. The server sends at most
   * `streamWindow` items ahead of the loop; leaving the loop stops the server's generator; the
   * call's timeout bounds the whole stream. Errors (the server's, the deadline, the connection's)
   * are thrown by the loop. A stream is retried as a call is, and never once an item has arrived.
   */
  stream<T = unknown>(method: string, params?: JsonRpcParams, options: CallOptions = noOptions): RemoteStream<T> {
    const isIdempotent = options.isIdempotent ?? this.#idempotent.has(method);
    return this.#stream(method, params, isIdempotent, options) as RemoteStream<T>;
  }

  /**
   * A typed proxy: `client.service<MathService>('math_service').plus(1, 2)`; per call,
   * `.plus.with({ signal, timeoutMs })(1, 2)`.
   */
  service<T>(name: string, options: ServiceProxyOptions<T> = {}): Remote<T> {
    return createServiceProxy<T>(
      name,
      (method, params, isIdempotent, callOptions) =>
        this.#callOne(method, params, isIdempotent || this.#idempotent.has(method), callOptions, this.#codec),
      options,
      (method, params, isIdempotent, callOptions) =>
        this.#stream(method, params, isIdempotent || this.#idempotent.has(method), callOptions),
    );
  }

  /** The dynamic form for JavaScript: `client.services.math_service.plus(10, 20)`. */
  get services(): Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>> {
    this.#services ??= createServicesProxy((name) => this.service(name));
    return this.#services;
  }

  /** The service names in the registry matching `pattern` (Redis glob: `worker_*`), sorted; needs `discovery`. */
  discover(pattern: string): Promise<string[]> {
    if (this.#watcher === undefined) return Promise.reject(noDiscovery('discover'));
    return this.#watcher.discover(pattern);
  }

  /** Reports up/update/drain/down for every instance of the names matching `pattern`; returns the unwatch function. */
  watch(pattern: string, callback: (event: WatchEvent) => void): () => void {
    if (this.#watcher === undefined) throw noDiscovery('watch');
    return this.#watcher.watch(pattern, callback);
  }

  /** Calls in flight across every connection. */
  get pendingCount(): number {
    return this.#transport.pendingCount;
  }

  get connectionCount(): number {
    return this.#transport.connectionCount;
  }

  /**
   * Replaces the endpoint list at run time, validated like `endpoints` (gawp only). New endpoints take
   * calls at once; a removed one takes no new calls, finishes those in flight and closes once idle.
   */
  setEndpoints(endpoints: readonly (string | Endpoint)[]): void {
    const parsed = parseEndpoints({ endpoints });
    if (this.#isClosed) throw new UsageError('GAW_ERR_CLOSED', 'the client is closed');
    const transport = this.#transport;
    if (transport.setEndpoints === undefined)
      throw new UsageError('GAW_ERR_INVALID_OPTION', `protocol ${transport.protocol} cannot change its endpoints`);
    transport.setEndpoints(parsed);
  }

  /** Graceful: new calls fail with GAW_ERR_CLOSED; calls in flight get their replies. Idempotent. */
  close(): Promise<void> {
    this.#isClosed = true;
    if (this.#events === undefined) return this.#transport.close();
    this.#closed ??= Promise.all([this.#transport.close(), this.#events.close()]).then(() => {});
    return this.#closed;
  }

  /** Closes every connection now; calls in flight fail. */
  destroy(): void {
    this.#isClosed = true;
    this.#transport.destroy();
    void this.#events?.close();
  }

  /** The raw pass-through codec, or the error saying why this transport cannot send raw data. */
  #raw(): Codec | UsageError {
    if (this.#codec.name !== 'json' || !this.#transport.features.ownCodec)
      return new UsageError('GAW_ERR_INVALID_OPTION', 'raw calls need the json codec and the gawp protocol');
    this.#rawCodec ??= createRawJsonCodec();
    return this.#rawCodec;
  }

  /** A stream (stream(), the proxies): what is wrong with the call is thrown by its first next(). */
  #stream(method: string, params: unknown, isIdempotent: boolean, options: CallOptions): RemoteStream {
    const bounds = (parent: CallContext | undefined) => callBounds(this.#timeoutMs, method, options, parent);
    const setting = { codec: this.#codec, transport: this.#transport, timeoutMs: this.#timeoutMs, bounds };
    return openStream(setting, this.#isClosed, method, params, isIdempotent, options);
  }

  /** Every single call (call, callRaw, the proxies): arguments checked, one transport call, the outcome revived. */
  #callOne(
    method: string,
    params: unknown,
    isIdempotent: boolean,
    options: CallOptions,
    codec: Codec,
  ): Promise<unknown> {
    try {
      checkMethod(method);
      const checked = checkParams(params);
      if (this.#isClosed) throw new UsageError('GAW_ERR_CLOSED', 'the client is closed');
      const parent = options.isRoot === true ? undefined : callContext();
      const attempt = callBounds(this.#timeoutMs, method, options, parent);
      const context = outgoingContext(parent, options);
      if (this.#chain === undefined) return this.#send(method, checked, isIdempotent, codec, context, attempt);
      const call = clientCall(method, checked, context, parent, this.#peer, attempt.deadlineMs - attempt.timeoutMs);
      return runChain(this.#chain, call, (c) =>
        this.#send(method, checkParams(c.params), isIdempotent, codec, presentContext(c.outgoing), attempt),
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** One call's try (retries included) and its outcome revived; the end of the interceptor chain. */
  async #send(
    method: string,
    params: JsonRpcParams | undefined,
    isIdempotent: boolean,
    codec: Codec,
    context: OutgoingContext | undefined,
    attempt: Attempt,
  ): Promise<unknown> {
    let outcome: Outcome;
    try {
      if (attempt.timeoutMs === 0) throw callerDeadlinePassed(method);
      outcome = await this.#transport.call({ method, params, isIdempotent, codec, context }, attempt);
    } catch (err) {
      throw withCallerStack(err);
    }
    if ('error' in outcome) throw replyError(method, outcome.error);
    return codec.revive(outcome.result);
  }
}
