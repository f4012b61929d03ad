// A client's view of the registry: for every name it uses, the live instances, kept current by
// the changes channel (applied in rev order; a gap, a lower rev, a reconnect or the resync timer
// triggers a full read) and guarded against flaps (view.ts). Redis down or hung: the last view
// stays, marked stale; a name never read fails fast. Two connections: commands and subscriber.
import { GawError, UsageError } from '../errors.js';
import { connectRedis } from '../redis/index.js';
import type { RedisLink } from '../redis/index.js';
import type { ResolvedDiscovery } from './options.js';
import { checkedServiceName, parseChange, parseRecord } from './record.js';
import { registryKeys } from './scripts.js';
import type { RegistryKeys } from './scripts.js';
import { WatchPatterns } from './patterns.js';
import type { WatchCallback } from './patterns.js';
import { checkedGlob, readNames, readSnapshot } from './snapshot.js';
import type { Snapshot } from './snapshot.js';
import { ServiceView, toInstance } from './view.js';
import type { Instance, WatchEvent } from './view.js';

export type RegistryState = 'live' | 'stale';
export type EndpointsListener = (name: string, serving: readonly Instance[]) => void;

const maxNames = 4096;
const readChunk = 128;

export class RegistryWatcher {
  readonly #options: ResolvedDiscovery;
  readonly #keys: RegistryKeys;
  readonly #views = new Map<string, ServiceView>();
  readonly #patterns = new WatchPatterns();
  readonly #listeners = new Set<EndpointsListener>();
  #cmd: RedisLink | undefined;
  #sub: RedisLink | undefined;
  #starting: Promise<void> | undefined;
  #rev: number | undefined;
  #hasReadOk = false;
  #fullRead: Promise<void> | undefined;
  #fullReadAgain = false;
  #resyncTimer: NodeJS.Timeout | undefined;
  #confirmTimer: NodeJS.Timeout | undefined;
  #isClosed = false;
  /** Records and messages refused by validation; full reads done (for tests and metrics). */
  droppedCount = 0;
  fullReadCount = 0;

  constructor(options: ResolvedDiscovery) {
    this.#options = options;
    this.#keys = registryKeys(options.namespace);
  }

  /** `stale` while Redis is unreachable or the last read failed: calls use the last view. */
  get state(): RegistryState {
    return this.#hasReadOk && this.#cmd?.isReady === true && this.#sub?.isReady === true ? 'live' : 'stale';
  }

  /** The last view of `name` (no I/O), or undefined if it was never resolved. */
  view(name: string): ServiceView | undefined {
    return this.#views.get(name);
  }

  onEndpoints(listener: EndpointsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The instances of `name`: the cached view, else one read bounded by discoveryTimeoutMs. */
  async resolve(name: string): Promise<ServiceView> {
    checkedServiceName(name);
    const cached = this.#views.get(name);
    if (cached?.hasRead) return cached;
    await this.#start();
    try {
      await this.#read([name], true, this.#options.discoveryTimeoutMs);
    } catch (err) {
      throw this.#unavailable(`cannot resolve ${name}`, err);
    }
    const view = this.#views.get(name);
    if (view === undefined)
      throw new UsageError('GAW_ERR_INVALID_OPTION', `more than ${maxNames} service names resolved`);
    return view;
  }

  /** The names with at least one instance that match `pattern` (Redis glob), sorted. */
  async discover(pattern: string): Promise<string[]> {
    const regex = checkedGlob(pattern);
    await this.#start();
    let names: string[];
    try {
      names = await readNames(this.#cmd as RedisLink, this.#keys, maxNames);
    } catch (err) {
      throw this.#unavailable('cannot list services', err);
    }
    return names.filter((name) => regex.test(name)).sort();
  }

  /**
   * Calls `callback` with up/update/drain/down for every instance of every name matching
   * `pattern`, starting with an `up` for each instance there now. Returns the unwatch function.
   */
  watch(pattern: string, callback: WatchCallback): () => void {
    const { regex, remove } = this.#patterns.add(pattern, callback);
    void this.#discoverInto(pattern, regex, callback);
    return remove;
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    clearInterval(this.#resyncTimer);
    clearTimeout(this.#confirmTimer);
    await Promise.allSettled([this.#cmd?.close(), this.#sub?.close()]);
  }

  destroy(): void {
    this.#isClosed = true;
    clearInterval(this.#resyncTimer);
    clearTimeout(this.#confirmTimer);
    this.#cmd?.destroy();
    this.#sub?.destroy();
  }

  async #discoverInto(pattern: string, regex: RegExp, callback: (event: WatchEvent) => void): Promise<void> {
    try {
      const names = await this.discover(pattern);
      for (const name of names.slice(0, maxNames)) {
        // A name read only now was reported by that read, to every pattern watching (this one too).
        const wasRead = this.#views.get(name)?.hasRead === true;
        const view = await this.resolve(name);
        if (!this.#patterns.has(pattern, callback)) return;
        if (!wasRead) continue;
        for (const instance of view.instances.values())
          if (regex.test(name)) callback({ type: 'up', service: name, instance });
      }
    } catch (err) {
      this.#options.logger.debug({ err: String(err) }, 'registry: watch could not list names yet; the resync retries');
    }
  }

  #unavailable(what: string, err: unknown): GawError {
    const message = `${what}: the registry at ${this.#options.target.label} did not answer`;
    return new GawError('GAW_ERR_DISCOVERY_UNAVAILABLE', message, { cause: err });
  }

  #start(): Promise<void> {
    if (this.#isClosed) return Promise.reject(new UsageError('GAW_ERR_CLOSED', 'the client is closed'));
    this.#starting ??= (async () => {
      const o = this.#options;
      const linkOptions = { commandTimeoutMs: o.commandTimeoutMs, maxReconnectMs: o.maxReconnectMs, logger: o.logger };
      this.#cmd = await connectRedis(o.target, { ...linkOptions, name: 'gaw-discovery' });
      this.#sub = await connectRedis(o.target, { ...linkOptions, name: 'gaw-discovery-sub' });
      this.#sub.onReady(() => this.#scheduleFullRead(true));
      this.#sub
        .subscribe(this.#keys.changes, (message) => this.#onMessage(message))
        .catch((err: unknown) => {
          o.logger.warn({ err: String(err) }, 'registry: subscribe failed; the resync keeps views current');
        });
      this.#resyncTimer = setInterval(() => this.#resync(), o.resyncMs);
      this.#resyncTimer.unref();
    })();
    return this.#starting;
  }

  #resync(): void {
    this.#scheduleFullRead(false);
    for (const pattern of this.#patterns.patterns) {
      this.discover(pattern).then(
        (names) => {
          const fresh = names.filter((name) => !this.#views.has(name));
          if (fresh.length > 0) return this.#read(fresh, true);
        },
        () => {},
      );
    }
  }

  /** A full read of every view; one at a time, the next one coalescing what asked meanwhile. */
  #scheduleFullRead(isReset: boolean): void {
    if (isReset) this.#rev = undefined;
    if (this.#fullRead !== undefined) {
      this.#fullReadAgain = true;
      return;
    }
    const names = [...this.#views.keys()];
    if (names.length === 0) return;
    this.fullReadCount++;
    this.#fullRead = this.#read(names, isReset)
      .catch((err: unknown) => {
        this.#options.logger.debug({ err: String(err) }, 'registry: read failed; keeping the last view (stale)');
      })
      .finally(() => {
        this.#fullRead = undefined;
        if (this.#fullReadAgain && !this.#isClosed) {
          this.#fullReadAgain = false;
          this.#scheduleFullRead(false);
        }
      });
  }

  /** Reads `names` in one snapshot per chunk and applies it; a snapshot older than the messages already applied is read again once. */
  async #read(names: readonly string[], acceptAny: boolean, timeoutMs?: number, isConfirm = false): Promise<void> {
    const cmd = this.#cmd as RedisLink;
    for (let i = 0; i < names.length; i += readChunk) {
      const chunk = names.slice(i, i + readChunk);
      let snapshot = await readSnapshot(cmd, this.#keys, chunk, timeoutMs);
      if (!acceptAny && this.#rev !== undefined && snapshot.rev < this.#rev)
        snapshot = await readSnapshot(cmd, this.#keys, chunk, timeoutMs);
      this.#applyRead(snapshot, isConfirm);
    }
    this.#hasReadOk = true;
  }

  #applyRead(snapshot: Snapshot, isConfirm: boolean): void {
    if (Number.isSafeInteger(snapshot.rev)) this.#rev = snapshot.rev;
    for (const refused of snapshot.refused) {
      this.droppedCount++;
      this.#options.logger.debug(refused, 'registry: record refused');
    }
    let isHeld = false;
    for (const [name, instances] of snapshot.services) {
      const view = this.#viewFor(name);
      if (view === undefined) continue;
      const result = view.applyRead(instances, isConfirm);
      isHeld ||= result.held;
      this.#report(view, result.events);
    }
    if (isHeld) this.#scheduleConfirm();
  }

  /** A held removal is confirmed by a read one heartbeat later (applied whatever it says). */
  #scheduleConfirm(): void {
    if (this.#confirmTimer !== undefined || this.#isClosed) return;
    this.#confirmTimer = setTimeout(() => {
      this.#confirmTimer = undefined;
      const held = [...this.#views.values()].filter((view) => view.isHeld).map((view) => view.name);
      if (held.length === 0) return;
      this.#read(held, true, undefined, true).catch(() => this.#scheduleConfirm());
    }, this.#options.heartbeatMs);
    this.#confirmTimer.unref();
  }

  #onMessage(raw: string): void {
    const change = parseChange(raw);
    if (change === undefined) {
      this.droppedCount++;
      return;
    }
    const last = this.#rev;
    if (last !== undefined && change.rev <= last) {
      // Redis restarted or its keys were wiped (revs start over), or a read already saw this.
      this.#scheduleFullRead(true);
      return;
    }
    if (last !== undefined) this.#rev = change.rev;
    if (last !== undefined && change.rev > last + 1) this.#scheduleFullRead(false);
    if (change.op === 'down') {
      let isHeld = false;
      for (const view of this.#views.values()) {
        const instance = view.instances.get(change.id);
        if (instance === undefined) continue;
        const result = view.remove([change.id], instance.isDraining, 'empty');
        isHeld ||= result.held;
        this.#report(view, result.events);
      }
      if (isHeld) this.#scheduleConfirm();
      return;
    }
    const record = parseRecord(change.rec, change.id);
    if (typeof record === 'string') {
      this.droppedCount++;
      return;
    }
    const instance = toInstance(record);
    for (const name of record.services) {
      const view = this.#views.get(name) ?? (this.#patterns.matches(name) ? this.#viewFor(name) : undefined);
      if (view === undefined) continue;
      const event = view.upsert(instance);
      if (!view.hasRead) void this.#read([name], true).catch(() => {});
      if (event !== undefined) this.#report(view, [event]);
    }
    for (const view of this.#views.values()) {
      if (record.services.includes(view.name) || !view.instances.has(change.id)) continue;
      this.#report(view, view.remove([change.id], true).events);
    }
  }

  #viewFor(name: string): ServiceView | undefined {
    let view = this.#views.get(name);
    if (view === undefined) {
      if (this.#views.size >= maxNames) return undefined;
      view = new ServiceView(name);
      this.#views.set(name, view);
    }
    return view;
  }

  #report(view: ServiceView, events: readonly WatchEvent[]): void {
    if (events.length === 0) return;
    const serving = view.serving();
    for (const listener of this.#listeners) listener(view.name, serving);
    this.#patterns.emit(view.name, events, this.#options.logger);
  }
}
