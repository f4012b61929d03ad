// Counters of what events did (delivered, failed, dead-lettered, refused by reason) and the log of
// refused envelopes: one line per reason per second at most, with how many were suppressed, so a
// flood of forged events cannot flood the log. No Redis here.
import type { Logger } from '../log.js';
import type { RefusalReason } from './envelope.js';

export interface EventsStats {
  /** Handlers that ran to completion (durable: acknowledged). */
  delivered: number;
  /** Handler runs that threw or rejected. */
  failed: number;
  /** Entries moved to a `:dead` stream. */
  deadLettered: number;
  /** Durable entries reclaimed from a consumer that did not acknowledge them in time. */
  reclaimed: number;
  /** Envelopes refused (never delivered), by reason. */
  refused: Partial<Record<RefusalReason, number>>;
}

export function emptyStats(): EventsStats {
  return { delivered: 0, failed: 0, deadLettered: 0, reclaimed: 0, refused: {} };
}

export class RefusalLog {
  readonly #logger: Logger;
  readonly #stats: EventsStats;
  readonly #lastLogMs = new Map<RefusalReason, number>();
  readonly #suppressed = new Map<RefusalReason, number>();

  constructor(logger: Logger, stats: EventsStats) {
    this.#logger = logger;
    this.#stats = stats;
  }

  refused(reason: RefusalReason, detail: string, where: Record<string, unknown>): void {
    this.#stats.refused[reason] = (this.#stats.refused[reason] ?? 0) + 1;
    const now = Date.now();
    if (now - (this.#lastLogMs.get(reason) ?? 0) < 1000) {
      this.#suppressed.set(reason, (this.#suppressed.get(reason) ?? 0) + 1);
      return;
    }
    const suppressed = this.#suppressed.get(reason) ?? 0;
    this.#suppressed.delete(reason);
    this.#lastLogMs.set(reason, now);
    this.#logger.warn(
      { ...where, reason, detail: detail.slice(0, 200), ...(suppressed > 0 && { suppressed }) },
      'events: refused an event (not delivered)',
    );
  }
}
