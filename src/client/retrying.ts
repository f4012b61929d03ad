// Retries around any transport, as undici's RetryHandler wraps dispatch: one try, and on failure
// the pure policy of retry.ts decides whether another is safe (refused, never reached a handler,
// or idempotent after a transport failure) and how long to back off, all under the call's one
// deadline. The transport below knows nothing of retries; this knows nothing of sockets.
import type { GawError } from '../errors.js';
import type { Logger } from '../log.js';
import { sleep } from './outcomes.js';
import { backoffDelayMs, shouldRetry } from './retry.js';
import type { BackoffOptions } from './retry.js';
import type { Attempt, Outcome, OutgoingBatchCall, OutgoingCall, OutgoingContext, Transport } from './transport.js';

export interface RetryOptions extends BackoffOptions {
  /** -1 forever, 0 never, N at most N retries (Python Gaw's meaning). */
  retries: number;
  /** Told of each try that failed and is tried again (metrics). */
  onRetry?: ((err: unknown) => void) | undefined;
}

export class RetryingTransport implements Transport {
  readonly #inner: Transport;
  readonly #options: RetryOptions;
  readonly #logger: Logger;
  #isClosed = false;

  constructor(inner: Transport, options: RetryOptions, logger: Logger) {
    this.#inner = inner;
    this.#options = options;
    this.#logger = logger;
  }

  get codec() {
    return this.#inner.codec;
  }

  get features() {
    return this.#inner.features;
  }

  get protocol() {
    return this.#inner.protocol;
  }

  get pendingCount(): number {
    return this.#inner.pendingCount;
  }

  get connectionCount(): number {
    return this.#inner.connectionCount;
  }

  call(call: OutgoingCall, attempt: Attempt): Promise<Outcome> {
    // The first try costs one promise more than the transport's own: the loop starts on failure only.
    return this.#inner
      .call(call, attempt)
      .catch((err: unknown) =>
        this.#again(err, attempt, call.isIdempotent === true, () => this.#inner.call(call, attempt)),
      );
  }

  batch(calls: readonly OutgoingBatchCall[], attempt: Attempt, context?: OutgoingContext): Promise<Outcome[]> {
    // A batch as a whole is never idempotent: only a refusal of all of it (nothing ran) is retried.
    return this.#inner
      .batch(calls, attempt, context)
      .catch((err: unknown) => this.#again(err, attempt, false, () => this.#inner.batch(calls, attempt, context)));
  }

  /** Retried as a call is, and only before its first item: once one arrived, never. */
  get stream(): Transport['stream'] {
    const inner = this.#inner;
    if (inner.stream === undefined) return undefined;
    return (call, attempt, window, receiver) =>
      inner.stream!(call, attempt, window, receiver).catch((err: unknown) =>
        this.#again(err, attempt, call.isIdempotent === true, () => inner.stream!(call, attempt, window, receiver)),
      );
  }

  notify(call: OutgoingCall, signal: AbortSignal | undefined): Promise<void> {
    return this.#inner.notify(call, signal);
  }

  get setEndpoints(): Transport['setEndpoints'] {
    return this.#inner.setEndpoints?.bind(this.#inner);
  }

  close(): Promise<void> {
    this.#isClosed = true;
    return this.#inner.close();
  }

  destroy(): void {
    this.#isClosed = true;
    this.#inner.destroy();
  }

  /** After the first try failed with `first`: back off and try again while the policy and the deadline allow. */
  async #again<T>(first: unknown, attempt: Attempt, isIdempotent: boolean, retry: () => Promise<T>): Promise<T> {
    let err = first;
    for (let tries = 0; ; tries++) {
      if (this.#isClosed || !shouldRetry(err, tries, this.#options.retries, isIdempotent)) throw err;
      const delayMs = backoffDelayMs(tries, this.#options);
      if (performance.now() + delayMs >= attempt.deadlineMs) throw err;
      this.#logger.debug(
        { method: attempt.what, attempt: tries + 1, delayMs, code: (err as GawError).code },
        'retrying',
      );
      this.#options.onRetry?.(err);
      await sleep(delayMs, attempt.signal);
      try {
        return await retry();
      } catch (next) {
        err = next;
      }
    }
  }
}
