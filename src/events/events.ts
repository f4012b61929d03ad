// GawEvents: events between services over Redis. `broadcast` publishes to every subscriber
// (pub/sub, at-most-once); `emit` appends to a stream that every consumer group reads, one consumer
// per group handling each event (at-least-once). `on` subscribes either way. Connections are made
// on first use (src/redis's RedisLink: bounded commands, fail-fast while Redis is down): one for
// commands, one for pub/sub, one per durable subscription (a blocking reader).
import { UsageError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { Logger } from '../log.js';
import { createCodec, defaultRegistry } from '../serializable/index.js';
import type { Codec, CodecName } from '../serializable/index.js';
import { BroadcastHub } from './broadcast.js';
import type { BroadcastHandler } from './broadcast.js';
import { EventKeys, seal } from './envelope.js';
import type { EventMeta } from './envelope.js';
import { GroupConsumer } from './group.js';
import type { DeliveryMeta, GroupContext } from './group.js';
import { connectRedis } from '../redis/index.js';
import type { RedisLink } from '../redis/index.js';
import { checkEventName, checkEventPattern, eventKeys, linkOptions, resolveEventsOptions } from './options.js';
import type { GawEventsOptions, ResolvedEventsOptions } from './options.js';
import { RefusalLog, emptyStats } from './refusals.js';
import type { EventsStats } from './refusals.js';

export type EventHandler = (value: any, meta: DeliveryMeta | EventMeta) => unknown;

export interface SubscribeOptions {
  /** Durable: join this consumer group (Redis Streams, events sent with `emit`). Without it: broadcast. */
  group?: string;
}

/** What `on` returns: `close()` stops it (a durable one lets running handlers finish first). */
export interface Subscription {
  readonly name: string;
  readonly group: string | undefined;
  close(): Promise<void>;
}

export class GawEvents {
  readonly #options: ResolvedEventsOptions;
  readonly #keys: EventKeys;
  readonly #codecs: Record<CodecName, Codec>;
  readonly #logger: Logger;
  readonly #stats: EventsStats = emptyStats();
  readonly #refusals: RefusalLog;
  readonly #redisKeys: ReturnType<typeof eventKeys>;
  readonly #groups = new Set<GroupConsumer>();
  #commands: Promise<RedisLink> | undefined;
  #hub: Promise<BroadcastHub> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: GawEventsOptions) {
    this.#options = resolveEventsOptions(options);
    this.#keys = new EventKeys(options.secret, options.keyId);
    const registry = options.registry ?? defaultRegistry;
    const maxDepth = this.#options.maxDepth;
    this.#codecs = {
      json: createCodec('json', { registry, maxDepth }),
      msgpack: createCodec('msgpack', { registry, maxDepth }),
    };
    this.#logger = options.logger ?? silentLogger;
    this.#refusals = new RefusalLog(this.#logger, this.#stats);
    this.#redisKeys = eventKeys(this.#options.namespace);
  }

  /** Counters: delivered, failed, dead-lettered, reclaimed, refused by reason (a live view). */
  get stats(): Readonly<EventsStats> {
    return this.#stats;
  }

  get namespace(): string {
    return this.#options.namespace;
  }

  /** Publishes to every subscriber connected now; resolves with how many Redis delivered it to. At-most-once. */
  async broadcast(name: string, data: unknown): Promise<number> {
    checkEventName(name);
    const envelope = this.#seal(name, data);
    const link = await this.#commandLink();
    return Number(await link.command(['PUBLISH', this.#redisKeys.channel(name), envelope]));
  }

  /** Appends to the event's stream (trimmed with MAXLEN ~); every group gets it. Resolves with the entry id. */
  async emit(name: string, data: unknown): Promise<string> {
    checkEventName(name);
    const envelope = this.#seal(name, data);
    const link = await this.#commandLink();
    const id = await link.command<string>([
      'XADD',
      this.#redisKeys.stream(name),
      'MAXLEN',
      '~',
      String(this.#options.maxLen),
      '*',
      'e',
      envelope,
    ]);
    return String(id);
  }

  /**
   * Subscribes `handler`. Without `group`: broadcast events of `name` (a glob with `*` or `?` allowed).
   * With `group`: durable events of `name` (sent with emit), one consumer of the group per event;
   * the handler's promise settling successfully acknowledges it, a failure redelivers it.
   */
  async on(name: string, handler: EventHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    this.#checkOpen();
    if (typeof handler !== 'function') throw new UsageError('GAW_ERR_INVALID_OPTION', 'on() needs a handler function');
    if (options.group === undefined) {
      const { isPattern } = checkEventPattern(name);
      const hub = await this.#broadcastHub();
      const channel = this.#redisKeys.channel(name);
      const own: BroadcastHandler = (value, meta) => handler(value, meta);
      await hub.add(channel, isPattern ? undefined : name, isPattern, own);
      return { name, group: undefined, close: () => hub.remove(channel, own) };
    }
    checkEventName(name);
    const group = checkEventName(options.group, 'the group');
    const consumer = new GroupConsumer(
      await this.#groupContext(),
      { name, stream: this.#redisKeys.stream(name), dead: this.#redisKeys.dead(name), group },
      handler,
    );
    this.#groups.add(consumer);
    try {
      await consumer.start();
    } catch (err) {
      this.#groups.delete(consumer);
      await consumer.close();
      throw err;
    }
    return {
      name,
      group,
      close: async () => {
        this.#groups.delete(consumer);
        await consumer.close();
      },
    };
  }

  /** Durable subscriptions finish what they run and acknowledge it; then every connection closes. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await Promise.allSettled([...this.#groups].map((g) => g.close()));
    this.#groups.clear();
    const [commands, hub] = await Promise.allSettled([this.#commands, this.#hub]);
    if (hub.status === 'fulfilled') await hub.value?.close();
    if (commands.status === 'fulfilled') await commands.value?.close();
  }

  #checkOpen(): void {
    if (this.#closing) throw new UsageError('GAW_ERR_CLOSED', 'the events object was closed');
  }

  #seal(name: string, data: unknown): Buffer {
    this.#checkOpen();
    const codec = this.#codecs[this.#options.codec];
    return seal(
      { name, src: this.#options.source, data, nowMs: Date.now() },
      this.#keys,
      codec,
      this.#options.maxEventBytes,
    );
  }

  #commandLink(): Promise<RedisLink> {
    this.#commands ??= connectRedis(this.#options.url, linkOptions(this.#options, 'gaw-events', this.#logger));
    this.#commands.catch(() => {
      this.#commands = undefined;
    });
    return this.#commands;
  }

  #broadcastHub(): Promise<BroadcastHub> {
    this.#hub ??= connectRedis(this.#options.url, linkOptions(this.#options, 'gaw-events-sub', this.#logger)).then(
      (link) => new BroadcastHub(this.#context(), link),
    );
    this.#hub.catch(() => {
      this.#hub = undefined;
    });
    return this.#hub;
  }

  #context() {
    return {
      options: this.#options,
      keys: this.#keys,
      codecs: this.#codecs,
      logger: this.#logger,
      refusals: this.#refusals,
      stats: this.#stats,
    };
  }

  async #groupContext(): Promise<GroupContext> {
    return { ...this.#context(), commands: await this.#commandLink() };
  }

  toString(): string {
    return `GawEvents(${this.#options.namespace})`;
  }
}
