// Broadcast subscriptions: Redis pub/sub on one subscriber connection per GawEvents, one Redis
// subscription per channel or pattern however many handlers share it. At-most-once: an event
// published while this side is disconnected is never seen. Each envelope is checked (size, MAC,
// name, timestamp within clockSkewMs of this clock) and its id remembered for the window, so a
// replayed copy is refused; what is refused is counted and logged, never handed to a handler.
import type { Logger } from '../log.js';
import type { BufferListener, RedisLink } from '../redis/index.js';
import type { Codec, CodecName } from '../serializable/index.js';
import { open } from './envelope.js';
import type { EventKeys, EventMeta } from './envelope.js';
import type { ResolvedEventsOptions } from './options.js';
import type { EventsStats, RefusalLog } from './refusals.js';

export type BroadcastHandler = (value: unknown, meta: EventMeta) => unknown;

export interface BroadcastContext {
  options: ResolvedEventsOptions;
  keys: EventKeys;
  codecs: Readonly<Record<CodecName, Codec>>;
  logger: Logger;
  refusals: RefusalLog;
  stats: EventsStats;
}

/** Ids seen within the window, to refuse replays; bounded (oldest forgotten first). */
const maxSeenIds = 100_000;

interface Channel {
  readonly handlers: Set<BroadcastHandler>;
  readonly listener: BufferListener;
  readonly isPattern: boolean;
  /** Settles when Redis confirmed the subscription. */
  readonly subscribed: Promise<void>;
}

export class BroadcastHub {
  readonly #context: BroadcastContext;
  readonly #link: RedisLink;
  readonly #channels = new Map<string, Channel>();
  readonly #seen = new Map<string, number>();

  constructor(context: BroadcastContext, link: RedisLink) {
    this.#context = context;
    this.#link = link;
  }

  /** Adds a handler for `channel` (a pattern when `isPattern`); `name` is the event name it must carry, if fixed. */
  async add(channel: string, name: string | undefined, isPattern: boolean, handler: BroadcastHandler): Promise<void> {
    let entry = this.#channels.get(channel);
    if (entry === undefined) {
      const handlers = new Set<BroadcastHandler>();
      const listener: BufferListener = (message) => this.#deliver(message, name, channel, handlers);
      const subscribed = this.#link.subscribeBuffers(channel, listener, isPattern);
      entry = { handlers, listener, isPattern, subscribed };
      this.#channels.set(channel, entry);
    }
    entry.handlers.add(handler);
    await entry.subscribed;
  }

  async remove(channel: string, handler: BroadcastHandler): Promise<void> {
    const entry = this.#channels.get(channel);
    if (entry === undefined || !entry.handlers.delete(handler) || entry.handlers.size > 0) return;
    this.#channels.delete(channel);
    await this.#link.unsubscribeBuffers(channel, entry.listener, entry.isPattern).catch(() => {});
  }

  #deliver(message: Buffer, name: string | undefined, channel: string, handlers: ReadonlySet<BroadcastHandler>): void {
    const { options, keys, codecs, refusals, stats } = this.#context;
    const now = Date.now();
    const opened = open(message, keys, codecs, {
      maxBytes: options.maxEventBytes,
      expectedName: name,
      windowMs: options.clockSkewMs,
      refMs: now,
    });
    if (!opened.ok) {
      refusals.refused(opened.reason, opened.detail, { channel });
      return;
    }
    if (this.#isReplay(`${channel} ${opened.meta.id}`, now)) {
      refusals.refused('stale', 'an event id already delivered within the window (a replay)', { channel });
      return;
    }
    for (const handler of handlers) {
      let result: unknown;
      try {
        result = handler(opened.value, opened.meta);
      } catch (err) {
        this.#failed(opened.meta, err);
        continue;
      }
      if (result instanceof Promise)
        result.then(
          () => stats.delivered++,
          (err) => this.#failed(opened.meta, err),
        );
      else stats.delivered++;
    }
  }

  #failed(meta: EventMeta, err: unknown): void {
    this.#context.stats.failed++;
    const message = err instanceof Error ? err.message : String(err);
    // At-most-once: a broadcast is not retried, but a failure is never silent.
    this.#context.logger.warn(
      { event: meta.name, id: meta.id, err: message.slice(0, 500) },
      'events: broadcast handler failed',
    );
  }

  /** The same id twice on one subscription within the window (an exact and a pattern subscription each see it once). */
  #isReplay(id: string, now: number): boolean {
    const windowMs = this.#context.options.clockSkewMs;
    for (const [seen, at] of this.#seen) {
      if (at >= now - 2 * windowMs && this.#seen.size <= maxSeenIds) break;
      this.#seen.delete(seen);
    }
    if (this.#seen.has(id)) return true;
    this.#seen.set(id, now);
    return false;
  }

  async close(): Promise<void> {
    this.#channels.clear();
    await this.#link.close();
  }
}
