// One service name's instances as a client last saw them, and the flap guard: a change that would
// empty the service or remove half or more of its serving instances at once is held until a
// second read, one heartbeat later, confirms it (a wiped or restarting Redis must not empty every
// pool). Additions and updates apply at once; removing a draining instance is never held. Pure:
// no Redis, no timers (watcher.ts drives it).
import { parseAddress } from './record.js';
import type { InstanceRecord } from './record.js';

export interface Instance {
  readonly id: string;
  /** `host:port` as registered. */
  readonly addr: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly workers: number;
  /** The codecs it accepts (`json`, `msgpack`). */
  readonly codecs: readonly string[];
  readonly zone: string | undefined;
  readonly version: string | undefined;
  readonly isDraining: boolean;
}

/**
 * `halve` (full reads: a wiped or half-refilled Redis looks like this) holds a removal that empties
 * the service or removes half or more of it; `empty` (one pushed `down`, in rev order: the
 * registry's own reap or deregister of one instance) holds only the removal of the last one.
 */
export type Guard = 'halve' | 'empty';

export type WatchEventType = 'up' | 'update' | 'drain' | 'down';

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly service: string;
  readonly instance: Instance;
}

export function toInstance(record: InstanceRecord): Instance {
  const { host, port } = parseAddress(record.addr) as { host: string; port: number };
  return {
    id: record.id,
    addr: record.addr,
    host,
    port,
    weight: record.weight,
    workers: record.workers,
    codecs: record.codecs,
    zone: record.zone,
    version: record.version,
    isDraining: record.draining,
  };
}

function same(a: Instance, b: Instance): boolean {
  return (
    a.addr === b.addr &&
    a.weight === b.weight &&
    a.workers === b.workers &&
    a.isDraining === b.isDraining &&
    a.zone === b.zone &&
    a.version === b.version
  );
}

export class ServiceView {
  readonly name: string;
  readonly instances = new Map<string, Instance>();
  /** True once a read (not only messages) filled it. */
  hasRead = false;
  /** performance.now() of the last read that filled it. */
  readAt = 0;
  /** A removal is being held for a confirming read. */
  isHeld = false;

  constructor(name: string) {
    this.name = name;
  }

  /** Adds or updates one instance; the event to report, if anything changed. */
  upsert(instance: Instance): WatchEvent | undefined {
    const old = this.instances.get(instance.id);
    if (old !== undefined && same(old, instance)) return undefined;
    this.instances.set(instance.id, instance);
    const type = old === undefined ? 'up' : instance.isDraining && !old.isDraining ? 'drain' : 'update';
    return { type, service: this.name, instance };
  }

  /** True when removing `ids` must wait for confirmation: it empties the service, or (`halve`) removes half or more. */
  #mustHold(ids: readonly string[], guard: Guard): boolean {
    let serving = 0;
    let removedServing = 0;
    const gone = new Set(ids);
    for (const [id, instance] of this.instances) {
      if (instance.isDraining) continue;
      serving++;
      if (gone.has(id)) removedServing++;
    }
    if (removedServing === 0) return false;
    return removedServing === serving || (guard === 'halve' && removedServing * 2 >= serving);
  }

  /**
   * Removes `ids` unless the flap guard holds them (then returns `held: true` and removes none).
   * `isConfirmed` (a second read agreed) skips the guard.
   */
  remove(
    ids: readonly string[],
    isConfirmed: boolean,
    guard: Guard = 'halve',
  ): { events: WatchEvent[]; held: boolean } {
    const present = ids.filter((id) => this.instances.has(id));
    if (present.length === 0) return { events: [], held: false };
    if (!isConfirmed && this.#mustHold(present, guard)) {
      this.isHeld = true;
      return { events: [], held: true };
    }
    const events: WatchEvent[] = [];
    for (const id of present) {
      const instance = this.instances.get(id) as Instance;
      this.instances.delete(id);
      events.push({ type: 'down', service: this.name, instance });
    }
    return { events, held: false };
  }

  /** Applies a full read: additions and updates at once, removals through the guard. */
  applyRead(next: readonly Instance[], isConfirmed: boolean): { events: WatchEvent[]; held: boolean } {
    const events: WatchEvent[] = [];
    const seen = new Set<string>();
    for (const instance of next) {
      seen.add(instance.id);
      const event = this.upsert(instance);
      if (event !== undefined) events.push(event);
    }
    const missing = [...this.instances.keys()].filter((id) => !seen.has(id));
    // The first read of a name has nothing to protect.
    const removal = this.remove(missing, isConfirmed || !this.hasRead);
    if (!removal.held) this.isHeld = false;
    this.hasRead = true;
    this.readAt = performance.now();
    return { events: [...events, ...removal.events], held: removal.held };
  }

  /** The instances that take new calls (not draining). */
  serving(): Instance[] {
    return [...this.instances.values()].filter((instance) => !instance.isDraining);
  }
}
