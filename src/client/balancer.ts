// Which endpoint and connection a GAWP/1 call goes to: one EndpointPool per endpoint, each call
// sent by power-of-two-choices over every usable connection of every endpoint that is up (fewer
// outstanding calls per unit of weight wins), the endpoint list replaced at run time (a removed
// endpoint drains, never cut), and an endpoint whose calls keep failing ejected for a backoff,
// after which it takes calls again only once a probe (probe.ts) is answered. Knows nothing of
// deadlines or retries (gawp-transport.ts, retrying.ts).
import { ConnectionError, GawError, TimeoutError } from '../errors.js';
import { EndpointPool } from './pool.js';
import { probeEndpoint } from './probe.js';
import type { PoolOptions, Endpoint } from './pool.js';
import { backoffDelayMs } from './retry.js';
import type { RpcConnection } from './rpc-connection.js';

export interface BalancerOptions extends PoolOptions {
  /** Eject an endpoint after this many transport failures in a row (0: never). */
  ejectAfterFailures: number;
  /** The first ejection lasts this long; each one after doubles it, up to maxEjectionMs. */
  baseEjectionMs: number;
  maxEjectionMs: number;
  /** An ejected endpoint's probe (a connection and an rpc.ping) must be answered within this. */
  probeTimeoutMs: number;
  /** Told of each endpoint ejected after consecutive failures (metrics). */
  onEject?: (() => void) | undefined;
}

function keyOf(endpoint: Endpoint): string {
  return `${endpoint.host}:${endpoint.port}`;
}

export class Balancer {
  readonly #options: BalancerOptions;
  #pools: EndpointPool[] = [];
  /** Removed endpoints whose connections are still answering calls. */
  readonly #draining = new Set<EndpointPool>();
  /** Reused on every pick (no allocation per call): the candidates and their pools. */
  readonly #candidates: RpcConnection[] = [];
  readonly #owners: EndpointPool[] = [];
  #next = 0;
  /** Probes waiting for an ejection to end; cleared on close. */
  readonly #probeTimers = new Set<NodeJS.Timeout>();
  #isClosed = false;
  /** The pool of the connection the last pick() returned. */
  picked: EndpointPool | undefined;

  constructor(endpoints: readonly Endpoint[], options: BalancerOptions) {
    this.#options = options;
    this.setEndpoints(endpoints);
  }

  get pools(): readonly EndpointPool[] {
    return this.#pools;
  }

  /** Active and draining pools alike. */
  *allPools(): Iterable<EndpointPool> {
    yield* this.#pools;
    yield* this.#draining;
  }

  /**
   * Replaces the endpoint list: endpoints kept keep their pools (and take the new weight), new ones
   * get pools, removed ones take no new calls and close each connection once its calls are answered.
   */
  setEndpoints(endpoints: readonly Endpoint[]): void {
    const old = new Map(this.#pools.map((pool) => [keyOf(pool.endpoint), pool]));
    const pools: EndpointPool[] = [];
    for (const endpoint of endpoints) {
      const key = keyOf(endpoint);
      if (pools.some((pool) => keyOf(pool.endpoint) === key)) continue;
      const kept = old.get(key);
      old.delete(key);
      const pool = kept ?? new EndpointPool({ host: endpoint.host, port: endpoint.port }, this.#options);
      pool.weight = endpoint.weight ?? 1;
      pools.push(pool);
    }
    this.#pools = pools;
    // Never every endpoint ejected: the one whose probe is due soonest serves again.
    if (pools.length > 0 && pools.every((pool) => pool.isEjected)) {
      const soonest = pools.reduce((a, b) => (a.ejectedUntil <= b.ejectedUntil ? a : b));
      this.#readmit(soonest, 'endpoint readmitted: every other one is ejected');
    }
    this.#candidates.length = 0;
    this.#owners.length = 0;
    for (const removed of old.values()) {
      this.#draining.add(removed);
      removed.close().then(() => this.#draining.delete(removed));
    }
  }

  /** A ready connection without waiting, or undefined when none is (the caller then acquires). */
  pick(): RpcConnection | undefined {
    const pools = this.#pools;
    const out = this.#candidates;
    const owners = this.#owners;
    let n = 0;
    for (let p = 0; p < pools.length; p++) {
      const pool = pools[p] as EndpointPool;
      if (pool.downUntil !== 0 && pool.isDown) continue;
      if (pool.isEjected) continue;
      const end = pool.collect(out, n);
      for (let i = n; i < end; i++) owners[i] = pool;
      n = end;
    }
    if (n === 0) return undefined;
    let chosen = 0;
    if (n > 1) {
      // Two distinct candidates at random; the one with fewer outstanding calls per unit of weight.
      chosen = Math.floor(Math.random() * n);
      let other = Math.floor(Math.random() * (n - 1));
      if (other >= chosen) other++;
      const a = out[chosen] as RpcConnection;
      const b = out[other] as RpcConnection;
      if (
        b.pendingCount * (owners[chosen] as EndpointPool).weight <
        a.pendingCount * (owners[other] as EndpointPool).weight
      )
        chosen = other;
    }
    this.picked = owners[chosen];
    return out[chosen];
  }

  /** No connection was ready: wait on an endpoint that is up, else on the one that recovers soonest. */
  async acquire(): Promise<RpcConnection> {
    for (;;) {
      // Every endpoint removed while the call waited (a registry that emptied): nothing to wait on.
      if (this.#pools.length === 0) throw new GawError('GAW_ERR_NO_ENDPOINT', 'no endpoint is left to call');
      const serving = this.#pools.filter((pool) => !pool.isDown && !pool.isEjected);
      const pool =
        serving.length > 0
          ? (serving[this.#next++ % serving.length] as EndpointPool)
          : this.#pools.reduce((a, b) =>
              Math.max(a.downUntil, a.ejectedUntil) <= Math.max(b.downUntil, b.ejectedUntil) ? a : b,
            );
      try {
        return await pool.acquire();
      } catch (err) {
        // Removed while the call waited for its connection: wait on one of the endpoints now listed.
        if (err instanceof GawError && err.code === 'GAW_ERR_CLOSED' && this.#draining.has(pool)) continue;
        throw err;
      }
    }
  }

  /** The active pool that holds `rpc`, if any (slow path only). */
  ownerOf(rpc: RpcConnection): EndpointPool | undefined {
    return this.#pools.find((pool) => pool.holds(rpc));
  }

  /** A call on `pool` was answered: its run of failures is over. */
  succeeded(pool: EndpointPool): void {
    pool.consecutiveFailures = 0;
    pool.ejections = 0;
  }

  /** A call on `pool` failed; a transport failure counts toward ejecting it, unless every other endpoint is out. */
  failed(pool: EndpointPool, err: unknown): void {
    if (!(err instanceof ConnectionError || err instanceof TimeoutError)) return;
    const limit = this.#options.ejectAfterFailures;
    if (limit === 0 || ++pool.consecutiveFailures < limit || pool.isEjected) return;
    if (!this.#pools.includes(pool)) return;
    const othersServing = this.#pools.some((other) => other !== pool && !other.isEjected);
    if (!othersServing) return;
    pool.consecutiveFailures = 0;
    pool.isEjected = true;
    this.#options.onEject?.();
    this.#ejectFor(pool);
  }

  /** (Re)starts an ejection's backoff; the probe at its end decides whether the endpoint serves again. */
  #ejectFor(pool: EndpointPool): void {
    pool.ejections++;
    const { baseEjectionMs, maxEjectionMs } = this.#options;
    const ejectedMs = backoffDelayMs(
      pool.ejections - 1,
      { baseDelayMs: baseEjectionMs, maxDelayMs: maxEjectionMs },
      () => 1,
    );
    pool.ejectedUntil = Date.now() + ejectedMs;
    this.#options.logger.info({ endpoint: pool.label, ejectedMs }, 'endpoint ejected');
    const timer = setTimeout(() => {
      this.#probeTimers.delete(timer);
      void this.#probe(pool);
    }, ejectedMs).unref();
    this.#probeTimers.add(timer);
  }

  async #probe(pool: EndpointPool): Promise<void> {
    if (this.#isClosed || !this.#pools.includes(pool) || !pool.isEjected) return;
    const isAlive = await probeEndpoint(pool, this.#options.probeTimeoutMs);
    // Removed meanwhile: it drains; readmitted meanwhile (setEndpoints): nothing to do.
    if (this.#isClosed || !this.#pools.includes(pool) || !pool.isEjected) return;
    if (isAlive) this.#readmit(pool, 'endpoint probed: serving again');
    else {
      this.#options.logger.info({ endpoint: pool.label }, 'endpoint probe failed');
      this.#ejectFor(pool);
    }
  }

  #readmit(pool: EndpointPool, msg: string): void {
    pool.isEjected = false;
    pool.ejectedUntil = 0;
    pool.consecutiveFailures = 0;
    this.#options.logger.info({ endpoint: pool.label }, msg);
  }

  close(): Promise<void> {
    this.#stopProbes();
    return Promise.all([...this.allPools()].map((pool) => pool.close())).then(() => undefined);
  }

  destroy(): void {
    this.#stopProbes();
    for (const pool of this.allPools()) pool.destroy();
  }

  #stopProbes(): void {
    this.#isClosed = true;
    for (const timer of this.#probeTimers) clearTimeout(timer);
    this.#probeTimers.clear();
  }
}
