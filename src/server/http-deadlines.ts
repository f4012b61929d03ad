// Deadlines of one length for many requests (their bodies), kept by one interval rather than a
// timer per request: added when a body starts, deleted when it ends; the interval (running only
// while something is pending) calls the `onExpire` of those past their deadline, oldest first.

/** Whether a deadline runs its `expire` at most this late: a quarter of the timeout, 10 ms to 1 s. */
function sweepIntervalMs(timeoutMs: number): number {
  return Math.max(10, Math.min(1_000, Math.floor(timeoutMs / 4)));
}

export class Deadlines<K> {
  readonly #timeoutMs: number;
  /** Insertion order is deadline order, since every deadline is the same length. */
  readonly #pending = new Map<K, { atMs: number; onExpire: () => void }>();
  #interval: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  add(key: K, onExpire: () => void): void {
    this.#pending.set(key, { atMs: performance.now() + this.#timeoutMs, onExpire });
    this.#interval ??= setInterval(() => this.#sweep(), sweepIntervalMs(this.#timeoutMs)).unref();
  }

  delete(key: K): void {
    this.#pending.delete(key);
  }

  #sweep(): void {
    const nowMs = performance.now();
    for (const [key, { atMs, onExpire }] of this.#pending) {
      if (atMs > nowMs) break;
      this.#pending.delete(key);
      onExpire();
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#interval);
      this.#interval = undefined;
    }
  }
}
