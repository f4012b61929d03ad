// The client's watch(pattern, cb) subscriptions: globs and their callbacks, which names they
// match, and the fan-out of events to them (a throwing callback is logged, never propagated).
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { checkedGlob } from './snapshot.js';
import type { WatchEvent } from './view.js';

export type WatchCallback = (event: WatchEvent) => void;

const maxPatterns = 256;

export class WatchPatterns {
  readonly #entries = new Map<string, { regex: RegExp; callbacks: Set<WatchCallback> }>();

  get patterns(): IterableIterator<string> {
    return this.#entries.keys();
  }

  /** Adds a callback for a glob; returns its regex and the remove function. */
  add(pattern: string, callback: WatchCallback): { regex: RegExp; remove: () => void } {
    const regex = checkedGlob(pattern);
    let entry = this.#entries.get(pattern);
    if (entry === undefined) {
      if (this.#entries.size >= maxPatterns)
        throw new UsageError('GAW_ERR_INVALID_OPTION', `at most ${maxPatterns} watched patterns`);
      entry = { regex, callbacks: new Set() };
      this.#entries.set(pattern, entry);
    }
    const added = entry;
    added.callbacks.add(callback);
    return {
      regex,
      remove: () => {
        added.callbacks.delete(callback);
        if (added.callbacks.size === 0) this.#entries.delete(pattern);
      },
    };
  }

  has(pattern: string, callback: WatchCallback): boolean {
    return this.#entries.get(pattern)?.callbacks.has(callback) === true;
  }

  matches(name: string): boolean {
    for (const { regex } of this.#entries.values()) if (regex.test(name)) return true;
    return false;
  }

  emit(name: string, events: readonly WatchEvent[], logger: Logger): void {
    for (const { regex, callbacks } of this.#entries.values()) {
      if (!regex.test(name)) continue;
      for (const event of events)
        for (const callback of callbacks) {
          try {
            callback(event);
          } catch (err) {
            logger.error({ err: String(err) }, 'registry: a watch callback threw');
          }
        }
    }
  }
}
