// The GAWP/1 transport: calls multiplexed over pooled connections to one or more endpoints, each
// try bounded by its deadline (one shared timer, deadlines.ts) and its signal. The balancer
// (balancer.ts) chooses the connection; this tells it how each call ended, and tells the retry
// policy apart refusals (-32001/-32002, nothing ran) from handlers' errors. No retries here (retrying.ts).
import { AbortError, RemoteError, UsageError } from '../errors.js';
import { rpcErrorCodes } from '../jsonrpc/index.js';
import type { Logger } from '../log.js';
import { callHead, contextLimits } from '../postoffice/index.js';
import type { EntryHead } from '../postoffice/index.js';
import type { Codec } from '../serializable/index.js';
import { watchAbort } from './abort-watch.js';
import { Deadlines } from '../deadlines.js';
import { callTimeout, ReadyCall } from './ready-call.js';
import { refusalError, refusalsRejected, rejectWholeRefusal } from './outcomes.js';
import type { StreamReceiver } from './stream-table.js';
import { Balancer } from './balancer.js';
import type { BalancerOptions } from './balancer.js';
import { EndpointResolver } from './resolver.js';
import type { ResolverOptions } from './resolver.js';
import type { Endpoint, EndpointPool } from './pool.js';
import type { RpcConnection } from './rpc-connection.js';
import type {
  Attempt,
  Outcome,
  OutgoingBatchCall,
  OutgoingCall,
  OutgoingContext,
  Transport,
  TransportFeatures,
} from './transport.js';

/** Sends one call (`id`) or one batch (`ids`) on a connection; `outcome` settles with its reply. */
type Send<T> = (rpc: RpcConnection) => { id?: number; ids?: number[]; outcome: Promise<T> };

/**
 * The call-context head for a request sent now on `rpc`: the time left before the attempt's
 * deadline and the ids; undefined on a connection without the extension.
 */
function headFor(rpc: RpcConnection, attempt: Attempt, context: OutgoingContext | undefined): EntryHead | undefined {
  if (!rpc.connection.hasCallContext) return undefined;
  const budgetMs = attempt.deadlineMs - performance.now();
  // Budget only: a number, written straight into the frame (no Buffer per call).
  if (context === undefined) return Math.min(contextLimits.maxBudgetMs, Math.max(0, Math.ceil(budgetMs)));
  return callHead({ ...context, budgetMs });
}

/** A stream that ended before any item with a refusal (nothing ran) is rejected, so it may be retried. */
function refusalRejected(outcome: Outcome | undefined): Outcome | undefined {
  const refused = outcome === undefined ? undefined : refusalError(outcome);
  if (refused !== undefined) throw refused;
  return outcome;
}

/** What a caller gets for a stream over a connection whose server does not speak the stream extension. */
function noStreams(method: string, rpc: RpcConnection): RemoteError {
  const where = `${rpc.connection.remoteAddress}:${rpc.connection.remotePort}`;
  return new RemoteError(
    rpcErrorCodes.STREAM_MISMATCH,
    `Stream mismatch: ${method} was iterated as a stream, but the server at ${where} does not speak the stream extension`,
  );
}

const features: TransportFeatures = Object.freeze({ notifications: true, batches: true, ownCodec: true });

export class GawpTransport implements Transport {
  readonly protocol = 'gawp';
  readonly features = features;
  readonly codec: Codec;
  readonly #balancer: Balancer;
  readonly #logger: Logger;
  /** Every try's deadline, on one timer (a Node timer per call costs up to ~0.5 µs). */
  readonly #deadlines = new Deadlines();
  #isClosed = false;
  #closing: Promise<void> | undefined;
  /** Host names in the endpoints become one endpoint per address (resolver.ts). */
  readonly #resolver: EndpointResolver;

  constructor(endpoints: readonly Endpoint[], options: BalancerOptions & { resolve: ResolverOptions }) {
    this.codec = options.codec;
    this.#logger = options.logger;
    const onConnectFailed = () => this.#resolver.connectFailed();
    this.#balancer = new Balancer([], { ...options, onConnectFailed });
    this.#resolver = new EndpointResolver(endpoints, (e) => this.#balancer.setEndpoints(e), options.resolve);
  }

  /** Calls in flight, on removed endpoints that are still draining too. */
  get pendingCount(): number {
    let total = 0;
    for (const pool of this.#balancer.allPools()) total += pool.pendingCount;
    return total;
  }

  get connectionCount(): number {
    let total = 0;
    for (const pool of this.#balancer.allPools()) total += pool.connectionCount;
    return total;
  }

  /** Replaces the endpoints (already validated); removed ones drain. */
  setEndpoints(endpoints: readonly Endpoint[]): void {
    if (this.#isClosed) throw new UsageError('GAW_ERR_CLOSED', 'the client is closed');
    this.#resolver.set(endpoints);
  }

  call(call: OutgoingCall, attempt: Attempt): Promise<Outcome> {
    const ready = attempt.signal === undefined ? this.#pick() : undefined;
    if (ready !== undefined) return this.#readyCall(ready, this.#balancer.picked as EndpointPool, call, attempt);
    const { method, params, codec, context } = call;
    return this.#once(attempt, (rpc: RpcConnection) =>
      refusalsRejected(rpc.request(method, params, codec, headFor(rpc, attempt, context))),
    );
  }

  batch(calls: readonly OutgoingBatchCall[], attempt: Attempt, context?: OutgoingContext): Promise<Outcome[]> {
    return this.#once(attempt, (rpc) => {
      const { ids, outcomes } = rpc.batch(calls, headFor(rpc, attempt, context));
      return { ids, outcome: Promise.all(outcomes).then(rejectWholeRefusal) };
    });
  }

  stream(call: OutgoingCall, attempt: Attempt, window: number, receiver: StreamReceiver): Promise<Outcome | undefined> {
    const { method, params, codec, context } = call;
    return this.#once(attempt, (rpc) => {
      if (!rpc.connection.hasStreams) throw noStreams(method, rpc);
      const budgetMs = attempt.deadlineMs - performance.now();
      const head = callHead({ ...context, budgetMs, streamWindow: window });
      const sent = rpc.stream(method, params, codec ?? this.codec, head, receiver);
      return { id: sent.id, outcome: sent.outcome.then(refusalRejected) };
    });
  }

  notify(call: OutgoingCall, signal: AbortSignal | undefined): Promise<void> {
    const ready = this.#pick();
    const sent = (ready === undefined ? this.#acquire() : Promise.resolve(ready)).then((rpc) => {
      if (signal?.aborted)
        throw new AbortError('the notification was aborted before it was sent', { cause: signal.reason });
      rpc.notify(call.method, call.params, call.codec);
    });
    sent.catch((err: unknown) => this.#logger.debug({ err, method: call.method }, 'notification not sent'));
    return sent;
  }

  close(): Promise<void> {
    this.#isClosed = true;
    this.#resolver.close();
    this.#closing ??= this.#balancer.close();
    return this.#closing;
  }

  destroy(): void {
    this.#isClosed = true;
    this.#resolver.close();
    this.#balancer.destroy();
  }

  /** A try with no signal on a connection that is ready: what #once does, with one promise instead of five. */
  #readyCall(rpc: RpcConnection, pool: EndpointPool, call: OutgoingCall, attempt: Attempt): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      const sink = new ReadyCall(this.#balancer, this.#deadlines, rpc, pool, attempt, resolve, reject);
      try {
        rpc.send(call.method, call.params, call.codec, headFor(rpc, attempt, call.context), sink);
      } catch (err) {
        reject(err);
        return;
      }
      this.#deadlines.link(sink);
    });
  }

  /** One try: a connection (waiting for a dial if none is ready), `send`, and the reply, the deadline or the abort. */
  #once<T>(attempt: Attempt, send: Send<T>): Promise<T> {
    const { signal, what, timeoutMs } = attempt;
    return new Promise<T>((resolve, reject) => {
      let rpc: RpcConnection | undefined;
      let ids: number[] = [];
      let isSettled = false;
      let unwatch: (() => void) | undefined;
      /** A timeout or an abort also forgets the ids sent; a timeout may start the dead-connection probe. */
      const finish = (err: unknown, value?: T, timedOutAfterMs?: number) => {
        if (isSettled) return;
        isSettled = true;
        const pool = rpc === undefined ? undefined : this.#balancer.ownerOf(rpc);
        if (pool !== undefined) {
          if (err === undefined) this.#balancer.succeeded(pool);
          else this.#balancer.failed(pool, err);
        }
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
      const timer = this.#deadlines.addAt(attempt.deadlineMs, () =>
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

  /** A ready connection without waiting (balancer.ts chooses it); none once closed. */
  #pick(): RpcConnection | undefined {
    return this.#isClosed ? undefined : this.#balancer.pick();
  }

  /** No connection was ready: wait for one. */
  #acquire(): Promise<RpcConnection> {
    if (this.#isClosed) return Promise.reject(new UsageError('GAW_ERR_CLOSED', 'the client is closed'));
    // Names listed first are looked up before a call waits on them (at once when there are none).
    return this.#resolver.ready.then(() => this.#balancer.acquire());
  }
}
