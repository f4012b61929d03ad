// The connections to one endpoint: opened on demand up to poolSize, the least busy one chosen,
// and a down endpoint backed off rather than hammered. Knows nothing of calls or retries beyond
// "give me a usable connection".
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { dial } from '../postoffice/index.js';
import type { DialOptions } from '../postoffice/index.js';
import type { Codec } from '../serializable/index.js';
import { RpcConnection } from './rpc-connection.js';
import { backoffDelayMs } from './retry.js';

export interface Endpoint {
  host: string;
  port: number;
  /** Relative share of calls (default 1): outstanding calls are divided by it when choosing. */
  weight?: number;
}

export interface PoolOptions {
  poolSize: number;
  /** Open another connection (up to poolSize) once the least busy one has this many calls in flight. */
  busyThreshold: number;
  connectionLifetimeMs: number;
  /** Recycle a connection this old (±10%): a replacement is dialed, then it drains (0: never). */
  maxConnectionAgeMs: number;
  /** Told when a connect fails (the resolver then looks the names up again). */
  onConnectFailed?: () => void;
  dial: Omit<DialOptions, 'host' | 'port' | 'signal'>;
  codec: Codec;
  logger: Logger;
}

interface Dialing {
  readonly promise: Promise<RpcConnection>;
  /** Callers waiting for this connection; past busyThreshold another dial starts (up to poolSize). */
  waiters: number;
}

export class EndpointPool {
  readonly endpoint: Endpoint;
  readonly #options: PoolOptions;
  readonly #connections: RpcConnection[] = [];
  readonly #dials = new Set<Dialing>();
  /** Aborts dials still in progress when the pool is destroyed; never a caller's signal. */
  readonly #abort = new AbortController();
  #failures = 0;
  #downUntil = 0;
  #isClosed = false;
  /**
   * The balancer's: share of calls, transport failures in a row, ejections in a row, whether it is
   * out of rotation for failing calls (until a probe is answered) and when that probe is due (ms).
   */
  weight = 1;
  consecutiveFailures = 0;
  ejections = 0;
  isEjected = false;
  ejectedUntil = 0;

  constructor(endpoint: Endpoint, options: PoolOptions) {
    this.endpoint = endpoint;
    this.#options = options;
  }

  get label(): string {
    return `${this.endpoint.host}:${this.endpoint.port}`;
  }

  /** True while a recent connection failure has the endpoint backing off. */
  get isDown(): boolean {
    return this.#downUntil > Date.now();
  }

  get downUntil(): number {
    return this.#downUntil;
  }

  /** Open connections, draining ones included. */
  get connectionCount(): number {
    return this.#connections.length;
  }

  get pendingCount(): number {
    let total = 0;
    for (const c of this.#connections) total += c.pendingCount;
    return total;
  }

  /** A usable connection now, when one is open and not too busy; never waits. */
  pick(): RpcConnection | undefined {
    let best: RpcConnection | undefined;
    for (const c of this.#connections) {
      if (c.isUsable && (best === undefined || c.pendingCount < best.pendingCount)) best = c;
    }
    const canGrow = this.#canGrow();
    if (best !== undefined && (!canGrow || best.pendingCount < this.#options.busyThreshold)) return best;
    if (canGrow && this.#dials.size === 0) this.#dial().promise.catch(() => {});
    // Nothing usable and no room for a replacement: a connection under suspicion is still better
    // than none (its probe decides its fate within a few seconds).
    return best ?? (canGrow || this.#dials.size > 0 ? undefined : this.#leastBusySuspect());
  }

  /**
   * Writes this pool's usable connections into `out` from index `at` and returns the index after
   * them: the balancer's candidates. Like pick(), dials another when all are busy (or none is open)
   * and there is room, and offers a suspect connection only when nothing else can be had.
   */
  collect(out: RpcConnection[], at: number): number {
    const connections = this.#connections;
    let end = at;
    let least = Number.POSITIVE_INFINITY;
    for (let i = 0; i < connections.length; i++) {
      const c = connections[i] as RpcConnection;
      if (!c.isUsable) continue;
      out[end++] = c;
      if (c.pendingCount < least) least = c.pendingCount;
    }
    if (end > at && least < this.#options.busyThreshold) return end;
    const canGrow = this.#canGrow();
    if (canGrow && this.#dials.size === 0) this.#dial().promise.catch(() => {});
    if (end === at && !canGrow && this.#dials.size === 0) {
      const suspect = this.#leastBusySuspect();
      if (suspect !== undefined) out[end++] = suspect;
    }
    return end;
  }

  holds(rpc: RpcConnection): boolean {
    return this.#connections.includes(rpc);
  }

  #leastBusySuspect(): RpcConnection | undefined {
    let best: RpcConnection | undefined;
    for (const c of this.#connections) {
      if (c.isSuspect && !c.connection.isDraining && (best === undefined || c.pendingCount < best.pendingCount))
        best = c;
    }
    return best;
  }

  /**
   * A usable connection, dialing when none is open. Callers share a dial in progress until
   * busyThreshold of them wait on it; then another starts, up to poolSize, so a burst of calls
   * made before any connection is open is spread over the pool rather than piled on the first one.
   */
  async acquire(): Promise<RpcConnection> {
    const ready = this.pick();
    if (ready !== undefined) return ready;
    if (this.#isClosed) throw new UsageError('GAW_ERR_CLOSED', 'the client is closed');
    let chosen: Dialing | undefined;
    for (const d of this.#dials) {
      if (d.waiters < this.#options.busyThreshold && (chosen === undefined || d.waiters < chosen.waiters)) chosen = d;
    }
    if (chosen === undefined && (this.#canGrow() || this.#dials.size === 0)) chosen = this.#dial();
    if (chosen === undefined) {
      for (const d of this.#dials) if (chosen === undefined || d.waiters < chosen.waiters) chosen = d;
    }
    chosen!.waiters++;
    return chosen!.promise;
  }

  /**
   * Usable connections plus dials in progress stay under poolSize (draining ones do not count).
   * Connections under suspicion (a call timed out, an rpc.ping probe is out) do not count as
   * usable, so a replacement can be dialed at once, but at most poolSize of them are open besides.
   */
  #canGrow(): boolean {
    if (this.#isClosed) return false;
    let used = this.#dials.size;
    let suspects = 0;
    for (const c of this.#connections) {
      if (c.isUsable) used++;
      else if (c.isSuspect) suspects++;
    }
    return used < this.#options.poolSize && suspects + used < 2 * this.#options.poolSize;
  }

  #dial(): Dialing {
    const promise = dial({
      ...this.#options.dial,
      host: this.endpoint.host,
      port: this.endpoint.port,
      signal: this.#abort.signal,
    })
      .then(
        (connection) => {
          this.#failures = 0;
          this.#downUntil = 0;
          const rpc = new RpcConnection(
            connection,
            this.#options.codec,
            this.#options.logger,
            this.#options.connectionLifetimeMs,
          );
          if (this.#isClosed) {
            rpc.drain();
            throw new UsageError('GAW_ERR_CLOSED', 'the client is closed');
          }
          rpc.onClose = (closed) => {
            const index = this.#connections.indexOf(closed);
            if (index >= 0) this.#connections.splice(index, 1);
          };
          this.#connections.push(rpc);
          this.#ageOut(rpc);
          return rpc;
        },
        (err: unknown) => {
          if (this.#isClosed) throw new UsageError('GAW_ERR_CLOSED', 'the client is closed', { cause: err });
          this.#failures++;
          this.#downUntil =
            Date.now() +
            backoffDelayMs(this.#failures, { baseDelayMs: 100, maxDelayMs: 5_000 }, () => 0.5 + Math.random() / 2);
          this.#options.logger.debug({ endpoint: this.label, err }, 'connecting failed');
          this.#options.onConnectFailed?.();
          throw err;
        },
      )
      .finally(() => {
        this.#dials.delete(dialing);
      });
    const dialing: Dialing = { promise, waiters: 0 };
    this.#dials.add(dialing);
    return dialing;
  }

  /**
   * Once `rpc` is maxConnectionAgeMs old (±10%, so a pool's connections do not all go at once), a
   * replacement is dialed; when it is open, new calls go to it and `rpc` drains: its calls in flight
   * get their replies, then it closes (CLOSE). A replacement that cannot be dialed leaves `rpc`
   * serving until the next try, one age later.
   */
  #ageOut(rpc: RpcConnection): void {
    const ageMs = this.#options.maxConnectionAgeMs;
    if (ageMs === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      timer = setTimeout(retire, ageMs * (0.9 + Math.random() / 5)).unref();
    };
    const retire = () => {
      if (this.#isClosed || rpc.connection.isClosed) return;
      // Under suspicion: its probe decides first; the server's CLOSE: it drains already.
      if (!rpc.isUsable) return rpc.isSuspect ? arm() : undefined;
      this.#dial().promise.then(
        () => rpc.drain(),
        () => arm(),
      );
    };
    rpc.connection.once('close', () => clearTimeout(timer));
    arm();
  }

  /** Graceful: no new calls; each connection closes once its calls are answered. */
  close(): Promise<void> {
    this.#isClosed = true;
    const closing = this.#connections.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.connection.isClosed) resolve();
          else {
            c.connection.once('close', () => resolve());
            c.drain();
          }
        }),
    );
    // A dial still in progress ends as soon as it connects (#dial drains it, the pool being closed) or fails.
    const dialing = [...this.#dials].map((d) => d.promise.catch(() => {}));
    return Promise.all([...closing, ...dialing]).then(() => undefined);
  }

  destroy(): void {
    this.#isClosed = true;
    this.#abort.abort();
    for (const c of [...this.#connections]) c.connection.destroy();
  }
}
