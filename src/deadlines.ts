// Call deadlines without a Node timer each (the client's per call, the server's per handled call):
// one list of pending deadlines, sorted, and one unref()ed timer for the earliest. A setTimeout +
// clearTimeout pair costs about half a microsecond, as much as the rest of a pipelined call; adding
// and removing here is O(1) when calls share a timeout (the usual case). Knows nothing of calls.

const MAX_TIMER_MS = 2 ** 31 - 1;

/** One pending deadline; pass it back to `remove` when the call settles first. */
export interface Deadline {
  readonly atMs: number;
}

/**
 * A deadline as the list keeps it. addAt() makes one around a callback; an object of the caller's
 * own can be one too (link()), so a call's state and its deadline are one allocation, not three.
 */
export interface DeadlineEntry extends Deadline {
  atMs: number;
  prev: DeadlineEntry | undefined;
  next: DeadlineEntry | undefined;
  isLinked: boolean;
  onExpire(): void;
}

/**
 * The timer is unref()ed: a call waiting on a deadline is always waiting on an open socket, which
 * keeps the process alive; when nothing is pending the timer must not.
 */
export class Deadlines {
  #head: DeadlineEntry | undefined;
  #tail: DeadlineEntry | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerAtMs = Infinity;
  readonly #onTimer = () => this.#expire();

  /** Calls `onExpire` once `timeoutMs` has passed, unless removed first. */
  add(timeoutMs: number, onExpire: () => void): Deadline {
    return this.addAt(performance.now() + timeoutMs, onExpire);
  }

  /** Calls `onExpire` at the performance.now() time `atMs`, unless removed first. */
  addAt(atMs: number, onExpire: () => void): Deadline {
    const entry: DeadlineEntry = { atMs, onExpire, prev: undefined, next: undefined, isLinked: false };
    this.link(entry);
    return entry;
  }

  /** Calls `entry.onExpire()` at `entry.atMs` (performance.now() time), unless removed first. */
  link(entry: DeadlineEntry): void {
    entry.isLinked = true;
    // Sorted by deadline: with one shared timeout every new entry goes last, found at once.
    let after = this.#tail;
    while (after !== undefined && after.atMs > entry.atMs) after = after.prev;
    if (after === undefined) {
      entry.prev = undefined;
      entry.next = this.#head;
      if (this.#head !== undefined) this.#head.prev = entry;
      this.#head = entry;
      if (this.#tail === undefined) this.#tail = entry;
    } else {
      entry.prev = after;
      entry.next = after.next;
      if (after.next !== undefined) after.next.prev = entry;
      else this.#tail = entry;
      after.next = entry;
    }
    if (entry.atMs < this.#timerAtMs) this.#arm(entry.atMs);
  }

  /**
   * Forgets a deadline; false when it had already expired or been removed. The timer is left to
   * find the next deadline when it fires.
   */
  remove(deadline: Deadline): boolean {
    const entry = deadline as DeadlineEntry;
    if (!entry.isLinked) return false;
    entry.isLinked = false;
    if (entry.prev !== undefined) entry.prev.next = entry.next;
    else this.#head = entry.next;
    if (entry.next !== undefined) entry.next.prev = entry.prev;
    else this.#tail = entry.prev;
    entry.prev = entry.next = undefined;
    return true;
  }

  #arm(atMs: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAtMs = atMs;
    // Node's timers take at most 2^31 - 1 ms; a later deadline is simply re-armed when this fires.
    this.#timer = setTimeout(
      this.#onTimer,
      Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(atMs - performance.now()))),
    ).unref();
  }

  #expire(): void {
    this.#timer = undefined;
    this.#timerAtMs = Infinity;
    const nowMs = performance.now();
    while (this.#head !== undefined && this.#head.atMs <= nowMs) {
      const entry = this.#head;
      this.remove(entry);
      entry.onExpire();
    }
    if (this.#head !== undefined && this.#timer === undefined) this.#arm(this.#head.atMs);
  }
}
