// GawClient: calls services over pooled, multiplexed GAWP/1 connections to one or more endpoints,
// with a timeout on every call, AbortSignal support, typed proxies, and retries only when they
// are safe. The pure retry policy is in retry.ts; connections in pool.ts and rpc-connection.ts.
import { AbortError, GawError, RemoteError, TimeoutError, UsageError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { Logger } from '../log.js';
import type { JsonRpcParams } from '../jsonrpc/index.js';
import { KeyRing, checkCodecName, checkInteger, chooseSuite, resolveLimits } from '../postoffice/index.js';
import type { CodecName, PostofficeLimits, SuiteName } from '../postoffice/index.js';
import { createCodec, defaultRegistry } from '../serializable/index.js';
import type { Codec, Registry } from '../serializable/index.js';
import { EndpointPool } from './pool.js';
import type { Endpoint } from './pool.js';
import { createServiceProxy, createServicesProxy } from './proxy.js';
import type { Remote, ServiceProxyOptions } from './proxy.js';
import type { Outcome, RpcConnection } from './rpc-connection.js';
import { backoffDelayMs, backoffDefaults, shouldRetry } from './retry.js';
import { Deadlines } from './deadlines.js';
import { watchAbort } from './abort-watch.js';
import { LegacyClient } from '../legacy/index.js';
import { parseEndpoints } from './endpoints.js';
import { checkParams, refusalsRejected, rejectWholeRefusal, sleep, withCallerStack } from './outcomes.js';

export interface GawClientOptions extends Partial<PostofficeLimits> {
  host?: string;
  port?: number;
  /** Several servers (`'10.0.0.1:5555'` or `{ host, port }`): calls are spread and fail over. */
  endpoints?: readonly (string | Endpoint)[];
  /** Base64 of 16, 24 or 32 bytes; the server's secret. */
  secret?: string;
  keyId?: number;
  /** With a secret: encrypt (suite `cbc`) rather than only sign (`sign`). */
  encrypt?: boolean;
  suite?: SuiteName;
  codec?: CodecName;
  /** Offer X25519 forward secrecy (default true with a secret). */
  forwardSecrecy?: boolean;
  /** Connections per endpoint (default 4). */
  poolSize?: number;
  /** Open another pooled connection once the least busy one has this many calls in flight (default 64). */
  busyThreshold?: number;
  /** The default per-call timeout, retries included (default 30 s). */
  timeoutMs?: number;
  /** -1 forever, 0 never, N at most N retries (default 3); only ever for calls that are safe to retry. */
  retries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  connectTimeoutMs?: number;
  /** Close a connection idle for this long (Python Gaw's connection_lifetime; default 30 s). */
  connectionLifetimeMs?: number;
  /** Methods (`service.method`) safe to run twice: retried after transport failures too. */
  idempotent?: readonly string[];
  maxDepth?: number;
  registry?: Registry;
  logger?: Logger;
  /**
   * `gawp` (default) or `gaw-legacy` to call a Python Gaw 0.7 server (one endpoint, `call` only;
   * no notifications, batches or raw calls; see the README's caveats).
   */
  protocol?: 'gawp' | 'gaw-legacy';
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Overrides the client's `idempotent` list for this call. */
  isIdempotent?: boolean;
}

export interface BatchCall {
  method: string;
  params?: JsonRpcParams;
  /** Send as a notification: no reply, no entry in the results. */
  isNotification?: boolean;
}

export type BatchResult = { ok: true; result: unknown } | { ok: false; error: RemoteError };

/** Sends one call (`id`) or one batch (`ids`) on a connection; `outcome` settles with its reply. */
type Send<T> = (rpc: RpcConnection) => { id?: number; ids?: number[]; outcome: Promise<T> };

function callTimeout(what: string, timeoutMs: number): TimeoutError {
  return new TimeoutError('GAW_ERR_CALL_TIMEOUT', `${what} got no reply within ${timeoutMs} ms`);
}

export class GawClient {
  readonly #pools: EndpointPool[];
  readonly #codec: Codec;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #backoff: { baseDelayMs: number; maxDelayMs: number };
  readonly #idempotent: ReadonlySet<string>;
  #next = 0;
  /** Every call's timeout, on one timer (a Node timer per call costs up to ~0.5 µs). */
  readonly #deadlines = new Deadlines();
  #isClosed = false;
  #closing: Promise<void> | undefined;
  #services: ReturnType<typeof createServicesProxy> | undefined;
  readonly #legacy: LegacyClient | undefined;

  constructor(options: GawClientOptions = {}) {
    const endpoints = parseEndpoints(options);
    if (options.protocol !== undefined && options.protocol !== 'gawp' && options.protocol !== 'gaw-legacy') {
      throw new UsageError(
        'GAW_ERR_INVALID_OPTION',
        `protocol ${JSON.stringify(options.protocol)} is not gawp or gaw-legacy`,
      );
    }
    const limits = resolveLimits(options);
    const suite = chooseSuite(options, options.secret !== undefined);
    if (options.codec !== undefined) checkCodecName(options.codec);
    const psk = options.secret === undefined ? undefined : new KeyRing(options.secret).get(0);
    this.#logger = options.logger ?? silentLogger;
    this.#timeoutMs = checkInteger('timeoutMs', options.timeoutMs ?? 30_000, 1);
    this.#retries = checkInteger('retries', options.retries ?? 3, -1);
    this.#backoff = {
      baseDelayMs: checkInteger('baseDelayMs', options.baseDelayMs ?? backoffDefaults.baseDelayMs, 0),
      maxDelayMs: checkInteger('maxDelayMs', options.maxDelayMs ?? backoffDefaults.maxDelayMs, 0),
    };
    this.#idempotent = new Set(options.idempotent ?? []);
    this.#codec = createCodec(options.codec ?? 'json', {
      registry: options.registry ?? defaultRegistry,
      maxDepth: options.maxDepth ?? 64,
    });
    const poolOptions = {
      poolSize: checkInteger('poolSize', options.poolSize ?? 4, 1),
      busyThreshold: checkInteger('busyThreshold', options.busyThreshold ?? 64, 1),
      connectionLifetimeMs: checkInteger('connectionLifetimeMs', options.connectionLifetimeMs ?? 30_000, 0),
      codec: this.#codec,
      logger: this.#logger,
      dial: {
        ...limits,
        suite,
        psk,
        keyId: checkInteger('keyId', options.keyId ?? 0, 0, 255),
        codec: options.codec ?? 'json',
        forwardSecrecy: options.forwardSecrecy ?? true,
        connectTimeoutMs: checkInteger('connectTimeoutMs', options.connectTimeoutMs ?? 10_000, 1),
        logger: this.#logger,
      },
    };
    this.#pools = endpoints.map((endpoint) => new EndpointPool(endpoint, poolOptions));
    if (options.protocol === 'gaw-legacy') {
      if (endpoints.length !== 1)
        throw new UsageError('GAW_ERR_INVALID_OPTION', 'protocol gaw-legacy takes exactly one endpoint');
      this.#legacy = new LegacyClient({
        ...endpoints[0]!,
        ...(options.secret !== undefined && { secret: options.secret }),
        encrypt: options.encrypt === true,
        registry: options.registry ?? defaultRegistry,
        timeoutMs: this.#timeoutMs,
        connectTimeoutMs: poolOptions.dial.connectTimeoutMs,
        maxConnections: poolOptions.poolSize,
        idleTimeoutMs: poolOptions.connectionLifetimeMs,
        ...(options.maxPayloadBytes !== undefined && { maxFrameBytes: options.maxPayloadBytes }),
      });
    }
  }

  /** Calls `service.method` with positional (array) or named (object) params; resolves to the result. */
  call<R = unknown>(method: string, params?: JsonRpcParams, options: CallOptions = {}): Promise<R> {
    const isIdempotent = options.isIdempotent ?? this.#idempotent.has(method);
    return this.#run(method, params, isIdempotent, options.timeoutMs, options.signal) as Promise<R>;
  }

  /**
   * Like call, for bridges and tools that hold wire data rather than values: `params` go out as
   * given (class tags included, never re-tagged) and the result comes back undecoded. JSON codec only.
   */
  callRaw(method: string, params?: JsonRpcParams, options: CallOptions = {}): Promise<unknown> {
    if (this.#codec.name !== 'json' || this.#legacy)
      return Promise.reject(
        new UsageError('GAW_ERR_INVALID_OPTION', 'raw calls need the json codec and the gawp protocol'),
      );
    const isIdempotent = options.isIdempotent ?? this.#idempotent.has(method);
    return this.#run(method, params, isIdempotent, options.timeoutMs, options.signal, true);
  }

  /** Sends a notification: no reply. The promise settles once it is handed to a connection. */
  notify(
    method: string,
    params?: JsonRpcParams,
    options: { signal?: AbortSignal; isRaw?: boolean } = {},
  ): Promise<void> {
    if (this.#legacy)
      return Promise.reject(new UsageError('GAW_ERR_INVALID_OPTION', 'Python Gaw 0.7 has no notifications'));
    const { signal } = options;
    const sent = this.#connection().then((rpc) => {
      if (signal?.aborted)
        throw new AbortError('the notification was aborted before it was sent', { cause: signal.reason });
      rpc.notify(method, checkParams(params), options.isRaw === true);
    });
    sent.catch((err: unknown) => this.#logger.debug({ err, method }, 'notification not sent'));
    return sent;
  }

  /** Sends several calls in one JSON-RPC batch; results in the order of the non-notification calls. */
  async batch(calls: readonly BatchCall[], options: CallOptions = {}): Promise<BatchResult[]> {
    if (!Array.isArray(calls) || calls.length === 0)
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'a batch needs at least one call');
    if (this.#legacy) throw new UsageError('GAW_ERR_INVALID_OPTION', 'Python Gaw 0.7 has no batches');
    const checked = calls.map((c) => ({
      method: c.method,
      params: checkParams(c.params),
      isNotification: c.isNotification === true,
    }));
    const timeoutMs = this.#callTimeoutMs(options.timeoutMs);
    let outcomes: Outcome[];
    try {
      outcomes = await this.#attempt(performance.now() + timeoutMs, timeoutMs, options.signal, (rpc) => {
        const { ids, outcomes } = rpc.batch(checked);
        return { ids, outcome: Promise.all(outcomes).then(rejectWholeRefusal) };
      });
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

  /** A typed proxy: `client.service<MathService>('math_service').plus(1, 2)`. */
  service<T>(name: string, options: ServiceProxyOptions<T> = {}): Remote<T> {
    return createServiceProxy<T>(
      name,
      (method, params, isIdempotent, timeoutMs) =>
        this.#run(method, params, isIdempotent || this.#idempotent.has(method), timeoutMs, undefined),
      options,
    );
  }

  /** The dynamic form for JavaScript: `client.services.math_service.plus(10, 20)`. */
  get services(): Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>> {
    this.#services ??= createServicesProxy((name) => this.service(name));
    return this.#services;
  }

  /** Calls in flight across every connection. */
  get pendingCount(): number {
    let total = 0;
    for (const pool of this.#pools) total += pool.pendingCount;
    return total;
  }

  get connectionCount(): number {
    let total = 0;
    for (const pool of this.#pools) total += pool.connectionCount;
    return total;
  }

  /** Graceful: new calls fail with GAW_ERR_CLOSED; calls in flight get their replies. Idempotent. */
  close(): Promise<void> {
    this.#isClosed = true;
    this.#closing ??= Promise.all([...this.#pools.map((pool) => pool.close()), this.#legacy?.close()]).then(
      () => undefined,
    );
    return this.#closing;
  }

  /** Closes every connection now; calls in flight fail. */
  destroy(): void {
    this.#isClosed = true;
    for (const pool of this.#pools) pool.destroy();
    this.#legacy?.destroy();
  }

  /** A call's timeout: the client's default, or the caller's, checked once here for every call path. */
  #callTimeoutMs(timeoutMs: number | undefined): number {
    return timeoutMs === undefined ? this.#timeoutMs : checkInteger('timeoutMs', timeoutMs, 1);
  }

  /** Every single call (call, callRaw, the proxies): arguments checked, then the fast path or the retry loop. */
  async #run(
    method: string,
    params: unknown,
    isIdempotent: boolean,
    requestedTimeoutMs: number | undefined,
    signal: AbortSignal | undefined,
    isRaw = false,
  ): Promise<unknown> {
    if (typeof method !== 'string' || method.length === 0)
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'method must be a non-empty string');
    const checked = checkParams(params);
    const timeoutMs = this.#callTimeoutMs(requestedTimeoutMs);
    if (this.#legacy) {
      if (this.#isClosed) throw new GawError('GAW_ERR_CLOSED', 'the client is closed');
      return this.#legacy.call(method, checked, { timeoutMs, ...(signal && { signal }) });
    }
    let outcome: Outcome;
    try {
      const send = (rpc: RpcConnection) => refusalsRejected(rpc.request(method, checked, isRaw));
      const ready = signal === undefined ? this.#pick() : undefined;
      outcome = await (ready === undefined
        ? this.#attempt(performance.now() + timeoutMs, timeoutMs, signal, send, isIdempotent, method)
        : this.#fastOnce(ready, send, timeoutMs, isIdempotent, method));
    } catch (err) {
      throw withCallerStack(err);
    }
    if ('error' in outcome) throw new RemoteError(outcome.error.code, outcome.error.message, outcome.error.data);
    return isRaw ? outcome.result : this.#codec.revive(outcome.result);
  }

  /**
   * The first try of a call with no signal on a connection that is ready: what #once does, with one
   * promise instead of three. A failure goes on in #attempt's retry loop, under the same deadline.
   */
  #fastOnce(
    rpc: RpcConnection,
    send: (rpc: RpcConnection) => { id: number; outcome: Promise<Outcome> },
    timeoutMs: number,
    isIdempotent: boolean,
    what: string,
  ): Promise<Outcome> {
    const retry = (err: unknown, deadlineMs: number) =>
      this.#attempt(deadlineMs, timeoutMs, undefined, send, isIdempotent, what, { err });
    let sent: { id: number; outcome: Promise<Outcome> };
    try {
      sent = send(rpc);
    } catch (err) {
      return retry(err, performance.now() + timeoutMs);
    }
    return new Promise<Outcome>((resolve, reject) => {
      const timer = this.#deadlines.add(timeoutMs, () => {
        rpc.cancel(sent.id, timeoutMs);
        reject(callTimeout(what, timeoutMs));
      });
      sent.outcome.then(
        (outcome) => {
          if (this.#deadlines.remove(timer)) resolve(outcome);
        },
        (err: unknown) => {
          if (this.#deadlines.remove(timer)) retry(err, timer.atMs).then(resolve, reject);
        },
      );
    });
  }

  /**
   * Runs `send` on a connection until it succeeds or the retry policy, the deadline (a
   * performance.now() time) or the signal says stop. `first` carries the failure of a first try
   * made elsewhere (#fastOnce).
   */
  async #attempt<T>(
    deadlineMs: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    send: Send<T>,
    isIdempotent = false,
    what = 'batch',
    first?: { err: unknown },
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (attempt === 0 && first !== undefined) throw first.err;
        return await this.#once(deadlineMs, timeoutMs, signal, send, what);
      } catch (err) {
        if (this.#isClosed || !shouldRetry(err, attempt, this.#retries, isIdempotent)) throw err;
        const delayMs = backoffDelayMs(attempt, this.#backoff);
        if (performance.now() + delayMs >= deadlineMs) throw err;
        this.#logger.debug({ method: what, attempt: attempt + 1, delayMs, code: (err as GawError).code }, 'retrying');
        await sleep(delayMs, signal);
      }
    }
  }

  /** One try: a connection (waiting for a dial if none is ready), `send`, and the reply, the deadline or the abort. */
  #once<T>(
    deadlineMs: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    send: Send<T>,
    what: string,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let rpc: RpcConnection | undefined;
      let ids: number[] = [];
      let isSettled = false;
      let unwatch: (() => void) | undefined;
      /** A timeout or an abort also forgets the ids sent; a timeout may start the dead-connection probe. */
      const finish = (err: unknown, value?: T, timedOutAfterMs?: number) => {
        if (isSettled) return;
        isSettled = true;
        this.#deadlines.remove(timer);
        unwatch?.();
        if (err === undefined) {
          resolve(value as T);
          return;
        }
        if (rpc !== undefined) for (const id of ids) rpc.cancel(id, timedOutAfterMs);
        reject(err);
      };
      const onAbort = () => finish(new AbortError(`${what} was aborted`, { cause: signal?.reason }));
      const timer = this.#deadlines.add(deadlineMs - performance.now(), () =>
        finish(callTimeout(what, timeoutMs), undefined, timeoutMs),
      );
      if (signal !== undefined) {
        if (signal.aborted) return onAbort();
        unwatch = watchAbort(signal, onAbort);
      }
      const start = (connection: RpcConnection) => {
        if (isSettled) return;
        rpc = connection;
        try {
          const sent = send(connection);
          ids = sent.ids ?? (sent.id === undefined ? [] : [sent.id]);
          sent.outcome.then((value) => finish(undefined, value), finish);
        } catch (err) {
          finish(err);
        }
      };
      const ready = this.#pick();
      if (ready !== undefined) start(ready);
      else this.#acquire().then(start, finish);
    });
  }

  /** A ready connection without waiting, from the next endpoint that is up; none once closed. */
  #pick(): RpcConnection | undefined {
    if (this.#isClosed) return undefined;
    const pools = this.#pools;
    for (let i = 0; i < pools.length; i++) {
      const pool = pools[(this.#next + i) % pools.length]!;
      if (pool.downUntil !== 0 && pool.isDown) continue;
      const rpc = pool.pick();
      if (rpc !== undefined) {
        this.#next = (this.#next + i + 1) % pools.length;
        return rpc;
      }
    }
    return undefined;
  }

  /** A connection, dialing if none is ready. */
  async #connection(): Promise<RpcConnection> {
    return this.#pick() ?? this.#acquire();
  }

  /** No connection was ready: wait on an endpoint that is up, else on the one that recovers soonest. */
  async #acquire(): Promise<RpcConnection> {
    if (this.#isClosed) throw new GawError('GAW_ERR_CLOSED', 'the client is closed');
    const up = this.#pools.filter((pool) => !pool.isDown);
    const pool =
      up.length > 0
        ? up[this.#next++ % up.length]!
        : this.#pools.reduce((a, b) => (a.downUntil <= b.downUntil ? a : b));
    return pool.acquire();
  }
}
