// GawEvents' options with their defaults in one place, the checks on them, and the Redis key
// layout of design/SCALE-OUT.md 3c (every key carries the hash tag {ns}). No Redis, no I/O.
import { hostname } from 'node:os';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RedisLinkOptions } from '../redis/index.js';
import { checkOptionKeys } from '../options.js';
import { checkCodecName, checkInteger } from '../postoffice/index.js';
import type { CodecName } from '../postoffice/index.js';
import type { Registry } from '../serializable/index.js';

export interface GawEventsOptions {
  /** `redis://host:port/db`, `rediss://…` or `redis+unix:///path/to/redis.sock`. */
  url: string;
  /** The shared secret (base64, or `{ [keyId]: secret }`): envelopes are signed with a key derived from it. */
  secret: string | Readonly<Record<number, string>>;
  /** Sign with this key id of the ring (default the highest). */
  keyId?: number;
  /** Keeps several deployments apart on one Redis (default `default`). */
  namespace?: string;
  /** The codec of the envelopes this side sends (default `msgpack`); both are always accepted. */
  codec?: CodecName;
  /** Where @serializable classes are looked up (default the default registry). */
  registry?: Registry;
  maxDepth?: number;
  /** Largest sealed envelope sent or accepted (default 256 KiB). */
  maxEventBytes?: number;
  /** How far an envelope's timestamp may be from the receiver's clock (broadcast) or its stream entry's Redis time (durable); default 30 s. */
  clockSkewMs?: number;
  /** Streams are trimmed with `MAXLEN ~` this (default 100,000 entries); dead-letter streams to a tenth. */
  maxLen?: number;
  /** A delivered, unacknowledged entry idle this long is reclaimed by another consumer (default 30 s). */
  visibilityMs?: number;
  /** After this many deliveries that did not succeed, an entry goes to the `:dead` stream (default 5). */
  maxDeliveries?: number;
  /** XREADGROUP COUNT, and the handlers one consumer runs at once (default 64). */
  batchSize?: number;
  /** XREADGROUP BLOCK (default 2 s): how long one read waits for new entries. */
  blockMs?: number;
  /** Who sends: put in every envelope (default `host:pid`). */
  source?: string;
  /** Each Redis command's bound (default 2 s); past it the send fails with GAW_ERR_REDIS_UNAVAILABLE. */
  commandTimeoutMs?: number;
  /** Sends awaiting Redis's reply on one connection (default 1,024); past it a send fails at once (a hung Redis). */
  maxPending?: number;
  logger?: Logger;
}

export interface ResolvedEventsOptions {
  url: string;
  namespace: string;
  codec: CodecName;
  maxDepth: number;
  maxEventBytes: number;
  clockSkewMs: number;
  maxLen: number;
  visibilityMs: number;
  maxDeliveries: number;
  batchSize: number;
  blockMs: number;
  source: string;
  commandTimeoutMs: number;
  maxPending: number;
}

export const eventsOptionKeys = new Set([
  'url',
  'secret',
  'keyId',
  'namespace',
  'codec',
  'registry',
  'maxDepth',
  'maxEventBytes',
  'clockSkewMs',
  'maxLen',
  'visibilityMs',
  'maxDeliveries',
  'batchSize',
  'blockMs',
  'source',
  'commandTimeoutMs',
  'maxPending',
  'logger',
]);

const eventName = /^[A-Za-z0-9_.:-]{1,128}$/;
const eventPattern = /^[A-Za-z0-9_.:*?-]{1,128}$/;

/** Throws unless `name` is an event name: 1-128 of `A-Z a-z 0-9 _ . : -`. */
export function checkEventName(name: unknown, what = 'event name'): string {
  if (typeof name !== 'string' || !eventName.test(name)) {
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `${what} must be 1-128 characters of A-Z a-z 0-9 _ . : -, not ${JSON.stringify(String(name)).slice(0, 80)}`,
    );
  }
  return name;
}

/** A broadcast subscription may also use the glob characters `*` and `?`. */
export function checkEventPattern(name: unknown): { name: string; isPattern: boolean } {
  if (typeof name === 'string' && eventPattern.test(name)) return { name, isPattern: /[*?]/.test(name) };
  throw new UsageError(
    'GAW_ERR_INVALID_OPTION',
    `an event name or pattern must be 1-128 characters of A-Z a-z 0-9 _ . : - * ?, not ${JSON.stringify(String(name)).slice(0, 80)}`,
  );
}

export function resolveEventsOptions(options: GawEventsOptions): ResolvedEventsOptions {
  checkOptionKeys(options, eventsOptionKeys, 'events options');
  if (typeof options?.url !== 'string' || options.url === '')
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'events need url: a redis://, rediss:// or redis+unix:// URL');
  if (options.secret === undefined) {
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      'events need a secret: envelopes are signed so that write access to Redis cannot forge them',
    );
  }
  const namespace = options.namespace ?? 'default';
  if (typeof namespace !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(namespace))
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'events namespace must be 1-64 characters of A-Z a-z 0-9 _ . -');
  const codec = options.codec ?? 'msgpack';
  checkCodecName(codec);
  const source = options.source ?? `${hostname()}:${process.pid}`;
  if (typeof source !== 'string' || Buffer.byteLength(source) > 255)
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'events source must be a string of at most 255 bytes');
  const visibilityMs = checkInteger('visibilityMs', options.visibilityMs ?? 30_000, 10, 2 ** 31 - 1);
  return {
    url: options.url,
    namespace,
    codec,
    maxDepth: checkInteger('maxDepth', options.maxDepth ?? 64, 1, 1000),
    maxEventBytes: checkInteger('maxEventBytes', options.maxEventBytes ?? 256 * 1024, 512, 512 * 1024 * 1024),
    clockSkewMs: checkInteger('clockSkewMs', options.clockSkewMs ?? 30_000, 0),
    maxLen: checkInteger('maxLen', options.maxLen ?? 100_000, 10),
    visibilityMs,
    maxDeliveries: checkInteger('maxDeliveries', options.maxDeliveries ?? 5, 1, 1000),
    batchSize: checkInteger('batchSize', options.batchSize ?? 64, 1, 10_000),
    blockMs: checkInteger('blockMs', options.blockMs ?? 2_000, 1, 60_000),
    source,
    commandTimeoutMs: checkInteger('commandTimeoutMs', options.commandTimeoutMs ?? 2_000, 10, 600_000),
    maxPending: checkInteger('maxPending', options.maxPending ?? 1024, 1, 1_000_000),
  };
}

/** src/redis connection options for one events link: fail-fast while down, bounded while hung. */
export function linkOptions(options: ResolvedEventsOptions, name: string, logger: Logger): RedisLinkOptions {
  return { name, commandTimeoutMs: options.commandTimeoutMs, maxOutstanding: options.maxPending, logger };
}

/** Redis keys and channels of one namespace. */
export function eventKeys(namespace: string) {
  const prefix = `gaw:{${namespace}}`;
  return {
    channel: (name: string) => `${prefix}:ev:${name}`,
    stream: (name: string) => `${prefix}:evs:${name}`,
    dead: (name: string) => `${prefix}:evs:${name}:dead`,
    /** The event name back from a channel this side subscribed to (pattern messages). */
    nameOfChannel: (channel: string) =>
      channel.startsWith(`${prefix}:ev:`) ? channel.slice(prefix.length + 4) : undefined,
  };
}

/**
 * The `events` option of GawServer and GawClient: a URL; `true` (the `discovery` option's registry
 * URL); or options whose url defaults to that too, and whose secret, registry and logger default to theirs.
 */
export type EventsOption =
  | string
  | true
  | (Omit<GawEventsOptions, 'url' | 'secret' | 'registry' | 'logger'> & {
      url?: string;
      secret?: GawEventsOptions['secret'];
    });

/** The registry URL of a `discovery` option (a URL or `{ url }`), for `events: true`. */
export function discoveryUrl(discovery: unknown): string | undefined {
  if (typeof discovery === 'string') return discovery;
  const url = (discovery as { url?: unknown } | undefined)?.url;
  return typeof url === 'string' ? url : undefined;
}

/** GawEventsOptions from an `events` option and what its owner (server or client) already has. */
export function inheritEventsOptions(
  option: EventsOption,
  inherited: Pick<GawEventsOptions, 'registry' | 'logger' | 'maxDepth'> & {
    secret: GawEventsOptions['secret'] | undefined;
    /** The `discovery` option (its registry URL is the default events URL). */
    discovery?: unknown;
  },
  where: string,
): GawEventsOptions {
  const own = typeof option === 'string' ? { url: option } : option === true ? {} : option;
  if (typeof own !== 'object' || own === null)
    throw new UsageError('GAW_ERR_INVALID_OPTION', `${where} events must be a redis URL, true or an options object`);
  const url = own.url ?? discoveryUrl(inherited.discovery);
  if (url === undefined)
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `${where} events need a redis URL: events.url, or the discovery option's registry URL (events: true reuses it)`,
    );
  const secret = own.secret ?? inherited.secret;
  if (secret === undefined) {
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `${where} events need a secret (the ${where} secret, or events.secret): envelopes are signed so that write access to Redis cannot forge them`,
    );
  }
  return {
    ...(inherited.registry !== undefined && { registry: inherited.registry }),
    ...(inherited.logger !== undefined && { logger: inherited.logger }),
    ...(inherited.maxDepth !== undefined && { maxDepth: inherited.maxDepth }),
    ...own,
    url,
    secret,
  };
}
