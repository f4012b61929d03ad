// One durable subscription: a consumer in a Redis Streams consumer group. It reads new entries in
// batches (XREADGROUP COUNT/BLOCK on a connection of its own), runs the handler on each, and
// acknowledges the ones that succeeded in one XACK. Every visibilityMs / 2 it reclaims entries
// another consumer left unacknowledged for visibilityMs (XAUTOCLAIM; XPENDING gives their delivery
// counts). An entry that failed maxDeliveries times, or was delivered more often, goes to the
// `:dead` stream and is acknowledged. Refused envelopes (forged, oversized, stale) are acknowledged
// and logged, never handed to the handler. At-least-once: a handler may see an event twice.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import { connectRedis } from '../redis/index.js';
import type { RedisLink } from '../redis/index.js';
import type { Codec, CodecName } from '../serializable/index.js';
import { open } from './envelope.js';
import type { EventKeys, EventMeta } from './envelope.js';
import { linkOptions } from './options.js';
import type { ResolvedEventsOptions } from './options.js';
import type { EventsStats, RefusalLog } from './refusals.js';
import { autoClaimReply, pendingCounts, readGroupEntries } from './replies.js';
import type { StreamEntry } from './replies.js';

/** What a durable handler gets besides the value. */
export interface DeliveryMeta extends EventMeta {
  /** 1 on the first delivery; higher when reclaimed or retried. */
  readonly deliveries: number;
  readonly group: string;
}

export type DurableHandler = (value: unknown, meta: DeliveryMeta) => unknown;

export interface GroupContext {
  options: ResolvedEventsOptions;
  commands: RedisLink;
  keys: EventKeys;
  codecs: Readonly<Record<CodecName, Codec>>;
  logger: Logger;
  refusals: RefusalLog;
  stats: EventsStats;
}

const binary = { hasBufferReplies: true } as const;
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export class GroupConsumer {
  readonly #context: GroupContext;
  readonly #name: string;
  readonly #stream: string;
  readonly #dead: string;
  readonly #group: string;
  readonly #consumer: string;
  readonly #handler: DurableHandler;
  readonly #running = new Set<Promise<void>>();
  #reader: RedisLink | undefined;
  #timer: NodeJS.Timeout | undefined;
  #isStopping = false;
  #loop: Promise<void> | undefined;
  #claimCursor = '0-0';
  #isClaiming = false;

  constructor(
    context: GroupContext,
    names: { name: string; stream: string; dead: string; group: string },
    handler: DurableHandler,
  ) {
    this.#context = context;
    this.#name = names.name;
    this.#stream = names.stream;
    this.#dead = names.dead;
    this.#group = names.group;
    this.#consumer = `${context.options.source}:${randomBytes(4).toString('hex')}`;
    this.#handler = handler;
  }

  /** Creates the group if needed (from `$`: events emitted from now on) and starts reading. */
  async start(): Promise<void> {
    await this.#ensureGroup();
    const { options, logger } = this.#context;
    this.#reader = await connectRedis(options.url, linkOptions(options, 'gaw-events-reader', logger));
    this.#loop = this.#readLoop();
    const everyMs = Math.max(10, Math.floor(this.#context.options.visibilityMs / 2));
    this.#timer = setInterval(() => void this.#reclaim(), everyMs).unref();
  }

  /** `from`: `$` when subscribing (events from now on); `0` when the group vanished (Redis restarted empty): all that is there. */
  async #ensureGroup(from: '$' | '0' = '$'): Promise<void> {
    try {
      await this.#context.commands.command(['XGROUP', 'CREATE', this.#stream, this.#group, from, 'MKSTREAM']);
    } catch (err) {
      if (!String((err as Error)?.message).startsWith('BUSYGROUP')) throw err;
    }
  }

  async #readLoop(): Promise<void> {
    const { batchSize, blockMs } = this.#context.options;
    let failures = 0;
    while (!this.#isStopping) {
      let batch: StreamEntry[];
      try {
        const reply = await this.#reader!.command(
          [
            'XREADGROUP',
            'GROUP',
            this.#group,
            this.#consumer,
            'COUNT',
            String(batchSize),
            'BLOCK',
            String(blockMs),
            'STREAMS',
            this.#stream,
            '>',
          ],
          { timeoutMs: blockMs + this.#context.options.commandTimeoutMs, hasBufferReplies: true },
        );
        batch = readGroupEntries(reply);
        failures = 0;
      } catch (err) {
        if (this.#isStopping) return;
        const message = String((err as Error)?.message ?? err);
        // Redis restarted empty (or the stream was deleted): the group is gone; make it again,
        // reading the new stream from its start so events emitted since the restart are not skipped.
        if (message.startsWith('NOGROUP')) await this.#ensureGroup('0').catch(() => {});
        else this.#context.logger.debug({ err: message, stream: this.#stream }, 'events: XREADGROUP failed');
        failures++;
        await pause(Math.min(5000, 50 * 2 ** Math.min(failures, 7)));
        continue;
      }
      if (batch.length > 0) await this.#handleBatch(batch, () => 1);
    }
  }

  /** Runs the handler on each entry at once, then acknowledges the settled ones in one XACK. */
  async #handleBatch(batch: readonly StreamEntry[], deliveriesOf: (id: string) => number): Promise<void> {
    const done: string[] = [];
    const work = Promise.all(batch.map((entry) => this.#handleOne(entry, deliveriesOf(entry.id), done)));
    this.#running.add(work as Promise<unknown> as Promise<void>);
    try {
      await work;
    } finally {
      this.#running.delete(work as Promise<unknown> as Promise<void>);
    }
    if (done.length > 0) {
      const acked = this.#context.commands.command(['XACK', this.#stream, this.#group, ...done]).then(
        () => {},
        (err) =>
          this.#context.logger.warn(
            { err: String(err?.message ?? err), stream: this.#stream },
            'events: XACK failed (the entries will be redelivered)',
          ),
      );
      this.#running.add(acked);
      void acked.finally(() => this.#running.delete(acked));
    }
  }

  /** Pushes the entry's id onto `done` when it needs no further delivery. */
  async #handleOne(entry: StreamEntry, deliveries: number, done: string[]): Promise<void> {
    const { options, keys, codecs, stats } = this.#context;
    if (entry.envelope === undefined) {
      this.#context.refusals.refused('malformed', 'a stream entry without an envelope field', {
        stream: this.#stream,
        entry: entry.id,
      });
      done.push(entry.id);
      return;
    }
    const opened = open(entry.envelope, keys, codecs, {
      maxBytes: options.maxEventBytes,
      expectedName: this.#name,
      windowMs: options.clockSkewMs,
      refMs: entry.ms,
    });
    if (!opened.ok) {
      this.#context.refusals.refused(opened.reason, opened.detail, { stream: this.#stream, entry: entry.id });
      done.push(entry.id);
      return;
    }
    if (deliveries > options.maxDeliveries) {
      await this.#deadLetter(
        entry,
        entry.envelope,
        deliveries - 1,
        'delivered without an acknowledgement too often (the consumer died or hung)',
        done,
      );
      return;
    }
    try {
      await this.#handler(opened.value, { ...opened.meta, deliveries, group: this.#group });
      stats.delivered++;
      done.push(entry.id);
    } catch (err) {
      stats.failed++;
      const message = err instanceof Error ? err.message : String(err);
      this.#context.logger.warn(
        { event: this.#name, group: this.#group, id: opened.meta.id, deliveries, err: message.slice(0, 500) },
        deliveries >= options.maxDeliveries
          ? 'events: handler failed; dead-lettering the event'
          : 'events: handler failed; the event will be redelivered',
      );
      if (deliveries >= options.maxDeliveries) await this.#deadLetter(entry, entry.envelope, deliveries, message, done);
    }
  }

  async #deadLetter(
    entry: StreamEntry,
    envelope: Buffer,
    deliveries: number,
    reason: string,
    done: string[],
  ): Promise<void> {
    try {
      await this.#context.commands.command([
        'XADD',
        this.#dead,
        'MAXLEN',
        '~',
        String(Math.max(10, Math.floor(this.#context.options.maxLen / 10))),
        '*',
        'e',
        envelope,
        'group',
        this.#group,
        'entry',
        entry.id,
        'deliveries',
        String(deliveries),
        'error',
        reason.slice(0, 500),
      ]);
      this.#context.stats.deadLettered++;
      done.push(entry.id);
    } catch (err) {
      // Left pending: reclaimed and dead-lettered again later, never dropped.
      this.#context.logger.warn(
        { err: String((err as Error)?.message ?? err), stream: this.#dead },
        'events: dead-lettering failed',
      );
    }
  }

  /** Takes over entries idle past visibilityMs (from any consumer of the group, this one included). */
  async #reclaim(): Promise<void> {
    if (this.#isClaiming || this.#isStopping) return;
    this.#isClaiming = true;
    const { commands, options } = this.#context;
    try {
      const claimed = autoClaimReply(
        await commands.command(
          [
            'XAUTOCLAIM',
            this.#stream,
            this.#group,
            this.#consumer,
            String(options.visibilityMs),
            this.#claimCursor,
            'COUNT',
            String(options.batchSize),
          ],
          binary,
        ),
      );
      this.#claimCursor = claimed.cursor;
      if (claimed.entries.length === 0 || this.#isStopping) return;
      this.#context.stats.reclaimed += claimed.entries.length;
      const first = claimed.entries[0]!.id;
      const last = claimed.entries[claimed.entries.length - 1]!.id;
      const counts = pendingCounts(
        await commands.command(
          ['XPENDING', this.#stream, this.#group, first, last, String(claimed.entries.length), this.#consumer],
          binary,
        ),
      );
      await this.#handleBatch(claimed.entries, (id) => counts.get(id) ?? 2);
    } catch (err) {
      if (!this.#isStopping)
        this.#context.logger.debug({ err: String((err as Error)?.message ?? err) }, 'events: reclaim failed');
    } finally {
      this.#isClaiming = false;
    }
  }

  /** Stops reading, lets running handlers finish and their acknowledgements go out, then closes. */
  async close(): Promise<void> {
    if (this.#isStopping) return;
    this.#isStopping = true;
    clearInterval(this.#timer);
    // The blocked read is abandoned: what it would have returned stays undelivered in the group.
    this.#reader?.destroy();
    await this.#loop?.catch(() => {});
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }
}
