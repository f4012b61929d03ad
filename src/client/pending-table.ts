// The calls in flight on one connection, by id, in a table of slots indexed by the id's low bits
// instead of a Map: a Map with one insert and one delete per call keeps rehashing, and the garbage
// that makes keeps much of each call alive through minor GCs. Ids only grow (a slot still taken
// is skipped), so a late reply to a forgotten id finds a newer call in its slot and is told apart
// by the id. The table doubles when half full. Knows nothing of sockets or JSON-RPC.
import type { Outcome } from './transport.js';

/** What the table keeps for each id. */
export interface PendingEntry {
  /** Set by the table. */
  id: number;
}

/** Where a request's reply goes: its outcome, or the connection's failure. */
export interface ReplySink {
  settle(outcome: Outcome): void;
  fail(err: Error): void;
}

/**
 * A request in flight, as the table keeps it: its own reply sink (a subclass settles its caller's
 * promise), so one object per call serves as table entry and sink.
 */
export abstract class Pending implements PendingEntry, ReplySink {
  id = 0;
  /** The connection's chunksReceived when it was sent: unchanged at its timeout, nothing arrived since. */
  receivedAtSend = 0;
  /** Set for the elements of a batch, so an id-null batch-level error can find them. */
  batch: number[] | undefined = undefined;

  abstract settle(outcome: Outcome): void;
  abstract fail(err: Error): void;
}

/** A pending request that settles a promise. */
class PromisedReply extends Pending {
  readonly settle: (outcome: Outcome) => void;
  readonly fail: (err: Error) => void;

  constructor(resolve: (outcome: Outcome) => void, reject: (err: Error) => void) {
    super();
    this.settle = resolve;
    this.fail = reject;
  }
}

/** A pending request and the promise it settles. */
export function promised(): { sink: Pending; outcome: Promise<Outcome> } {
  let sink: Pending | undefined;
  const outcome = new Promise<Outcome>((resolve, reject) => {
    sink = new PromisedReply(resolve, reject);
  });
  return { sink: sink as Pending, outcome };
}

const initialSlots = 64;

export class PendingTable<T extends PendingEntry> {
  #slots: (T | undefined)[] = new Array(initialSlots).fill(undefined);
  #mask = initialSlots - 1;
  #size = 0;
  #nextId: number;

  /** `firstId` (default 1) is the first id given. */
  constructor(firstId = 1) {
    this.#nextId = firstId;
  }

  get size(): number {
    return this.#size;
  }

  /** Gives `entry` the next free id and keeps it; returns the id. */
  add(entry: T): number {
    if (this.#size >= this.#slots.length >> 1) this.#grow();
    let id = this.#nextId;
    while (this.#slots[id & this.#mask] !== undefined) id = next(id);
    this.#nextId = next(id);
    entry.id = id;
    this.#slots[id & this.#mask] = entry;
    this.#size++;
    return id;
  }

  get(id: number): T | undefined {
    const entry = this.#slots[id & this.#mask];
    return entry !== undefined && entry.id === id ? entry : undefined;
  }

  /** Forgets `id`; returns its entry, or undefined when it was not kept. */
  take(id: number): T | undefined {
    const index = id & this.#mask;
    const entry = this.#slots[index];
    if (entry === undefined || entry.id !== id) return undefined;
    this.#slots[index] = undefined;
    this.#size--;
    return entry;
  }

  /** Every entry, and the table empty. */
  takeAll(): T[] {
    const all = this.#slots.filter((entry): entry is T => entry !== undefined);
    this.#slots = new Array(initialSlots).fill(undefined);
    this.#mask = initialSlots - 1;
    this.#size = 0;
    return all;
  }

  #grow(): void {
    // Two ids apart in the old low bits are apart in the new ones too: no collisions on the move.
    const slots: (T | undefined)[] = new Array(this.#slots.length * 2).fill(undefined);
    const mask = slots.length - 1;
    for (const entry of this.#slots) if (entry !== undefined) slots[entry.id & mask] = entry;
    this.#slots = slots;
    this.#mask = mask;
  }
}

/** The largest id: ids fit in a u32, where the streams extension carries them. */
export const maxRequestId = 0xffff_ffff;

/** Past the largest id, ids start again at 1. */
function next(id: number): number {
  return id >= maxRequestId ? 1 : id + 1;
}
