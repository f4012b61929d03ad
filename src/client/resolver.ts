// Endpoints named by a host name: each name's addresses (node:dns lookup with all: true, or the
// injected `lookup`) become one endpoint apiece, re-resolved every resolveIntervalMs and after a
// failed connect (at most once a second). The balancer gets the expanded list: an address that
// appears takes calls, one that goes away drains (balancer.ts). Knows nothing of connections.
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Endpoint } from './pool.js';

/** Every address of `hostname` (node:dns lookup's `{ all: true }` shape); injectable for tests. */
export type LookupAll = (hostname: string) => Promise<readonly { address: string }[]>;

export const lookupAll: LookupAll = (hostname) => dns.lookup(hostname, { all: true });

/** The `lookup` option: node:dns by default, else a function (checked here). */
export function checkLookup(lookup: unknown): LookupAll {
  if (lookup === undefined) return lookupAll;
  if (typeof lookup !== 'function')
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'lookup must be a function (hostname) => Promise<{ address }[]>');
  return lookup as LookupAll;
}

export interface ResolverOptions {
  lookup: LookupAll;
  /** Resolve names again this often (0: only at the start and after a failed connect). */
  resolveIntervalMs: number;
  logger: Logger;
}

/** A failed connect re-resolves no more often than this. */
const minResolveGapMs = 1_000;

export class EndpointResolver {
  readonly #apply: (endpoints: readonly Endpoint[]) => void;
  readonly #options: ResolverOptions;
  #configured: readonly Endpoint[] = [];
  /** Each name's addresses from its last successful lookup. */
  readonly #addresses = new Map<string, readonly string[]>();
  #interval: NodeJS.Timeout | undefined;
  #resolving: Promise<void> | undefined;
  /** When a failed connect last started a lookup (the interval's lookups do not count). */
  #lastFailureLookupAt = 0;
  #isClosed = false;
  /** Settles once the names listed first were looked up (at once when there are none). */
  ready: Promise<void> = Promise.resolve();

  constructor(
    configured: readonly Endpoint[],
    apply: (endpoints: readonly Endpoint[]) => void,
    options: ResolverOptions,
  ) {
    this.#apply = apply;
    this.#options = options;
    this.set(configured);
  }

  /** A new configured list (setEndpoints): applied at once, its names looked up again. */
  set(configured: readonly Endpoint[]): void {
    this.#configured = configured;
    this.#apply(this.#expand());
    const hasNames = this.#names().length > 0;
    if (hasNames) this.ready = this.resolve();
    if (hasNames && this.#interval === undefined && this.#options.resolveIntervalMs > 0)
      this.#interval = setInterval(() => void this.resolve(), this.#options.resolveIntervalMs).unref();
    if (!hasNames && this.#interval !== undefined) {
      clearInterval(this.#interval);
      this.#interval = undefined;
    }
  }

  /** A connect failed: the addresses may have moved. */
  connectFailed(): void {
    if (this.#names().length === 0 || Date.now() - this.#lastFailureLookupAt < minResolveGapMs) return;
    this.#lastFailureLookupAt = Date.now();
    void this.resolve();
  }

  /** Looks every name up (one lookup at a time per resolver) and applies what was found. */
  resolve(): Promise<void> {
    this.#resolving ??= this.#resolveAll().finally(() => {
      this.#resolving = undefined;
    });
    return this.#resolving;
  }

  close(): void {
    this.#isClosed = true;
    clearInterval(this.#interval);
  }

  async #resolveAll(): Promise<void> {
    await Promise.all(
      this.#names().map(async (name) => {
        try {
          const found = await this.#options.lookup(name);
          const addresses = [...new Set(found.map((a) => a.address))].sort();
          if (addresses.length > 0) this.#addresses.set(name, addresses);
        } catch (err) {
          // Kept: the addresses known last (or the name itself, which dials through the system resolver).
          this.#options.logger.warn({ host: name, err: (err as Error).message }, 'resolving failed');
        }
      }),
    );
    if (!this.#isClosed) this.#apply(this.#expand());
  }

  #names(): string[] {
    return [...new Set(this.#configured.filter((e) => isIP(e.host) === 0).map((e) => e.host))];
  }

  /** The configured list with each resolved name replaced by one endpoint per address. */
  #expand(): Endpoint[] {
    const out: Endpoint[] = [];
    for (const e of this.#configured) {
      const addresses = isIP(e.host) === 0 ? this.#addresses.get(e.host) : undefined;
      if (addresses === undefined) out.push(e);
      else for (const host of addresses) out.push({ host, port: e.port, weight: e.weight ?? 1 });
    }
    return out;
  }
}
