// One connection to Redis for gaw's registry and events: node-redis (`@redis/client`) loaded
// lazily, so the library without a registry needs no engine; every command bounded by a timeout
// (node-redis's own timeout stops at the write, so a hung Redis would hold a call forever) and a cap
// on commands outstanding; fail-fast while disconnected; reconnects with backoff 100 ms -> 5 s;
// Lua scripts by EVALSHA with an EVAL fallback. Knows nothing of what the keys mean.
import { createHash } from 'node:crypto';
import { GawError, UsageError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { Logger } from '../log.js';
import { parseRedisUrl } from './url.js';
import type { RedisTarget } from './url.js';

export interface RedisLinkOptions {
  /** CLIENT SETNAME and logs: `gaw-registry`, `gaw-events`. */
  name?: string;
  /** Each command's bound; past it the command fails with GAW_ERR_REDIS_UNAVAILABLE. Default 1 000 ms. */
  commandTimeoutMs?: number;
  /** Commands sent and not answered (a hung Redis) above which new ones fail at once. Default 64. */
  maxOutstanding?: number;
  /** The reconnect backoff: first delay, doubled up to the max. Default 100 ms and 5 000 ms. */
  minReconnectMs?: number;
  maxReconnectMs?: number;
  logger?: Logger;
}

/** A Lua script: its source and SHA-1, for EVALSHA. */
export interface LuaScript {
  readonly source: string;
  readonly sha1: string;
}

export function defineLuaScript(source: string): LuaScript {
  return { source, sha1: createHash('sha1').update(source).digest('hex') };
}

export type RedisArg = string | Buffer;
type Listener = (message: string, channel: string) => void;
/** A subscription's listener in buffer mode: binary payloads (events' envelopes) arrive unchanged. */
export type BufferListener = (message: Buffer, channel: Buffer) => void;

/** RESP's blob-string type byte ('$'): node-redis's RESP_TYPES.BLOB_STRING, mapped to Buffer. */
const bufferReplies = { typeMapping: { 36: Buffer } };

/** The few node-redis client calls gaw makes, typed here so no node-redis type leaks out. */
interface NodeRedisClient {
  readonly isReady: boolean;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  connect(): Promise<unknown>;
  sendCommand(args: readonly RedisArg[], options?: object): Promise<unknown>;
  subscribe(channel: string, listener: Listener | BufferListener, bufferMode?: boolean): Promise<void>;
  unsubscribe(channel: string, listener?: Listener | BufferListener, bufferMode?: boolean): Promise<void>;
  pSubscribe(pattern: string, listener: Listener | BufferListener, bufferMode?: boolean): Promise<void>;
  pUnsubscribe(pattern: string, listener?: Listener | BufferListener, bufferMode?: boolean): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
}

let loaded: Promise<(options: object) => NodeRedisClient> | undefined;

/** Imports @redis/client once; a clear GAW_ERR_MISSING_DEPENDENCY when it is not installed. */
export function loadRedisModule(): Promise<(options: object) => NodeRedisClient> {
  loaded ??= import('@redis/client').then(
    (module) => module.createClient as unknown as (options: object) => NodeRedisClient,
    (err: unknown) => {
      loaded = undefined;
      throw new UsageError(
        'GAW_ERR_MISSING_DEPENDENCY',
        'the registry and events need the package @redis/client (node-redis): npm install @redis/client',
        { cause: err },
      );
    },
  );
  return loaded;
}

function unavailable(label: string, why: string, cause?: unknown): GawError {
  return new GawError('GAW_ERR_REDIS_UNAVAILABLE', `Redis at ${label}: ${why}`, { cause });
}

/** A Redis connection with bounded commands. Made by connectRedis. */
export class RedisLink {
  readonly target: RedisTarget;
  readonly #client: NodeRedisClient;
  readonly #timeoutMs: number;
  readonly #maxOutstanding: number;
  readonly #logger: Logger;
  readonly #onReady = new Set<() => void>();
  readonly #onDown = new Set<() => void>();
  #outstanding = 0;
  #hasConnected = false;
  #isDown = false;
  #isClosed = false;
  #firstReady: Promise<void>;

  constructor(target: RedisTarget, client: NodeRedisClient, options: Required<RedisLinkOptions>) {
    this.target = target;
    this.#client = client;
    this.#timeoutMs = options.commandTimeoutMs;
    this.#maxOutstanding = options.maxOutstanding;
    this.#logger = options.logger;
    let markReady = () => {};
    this.#firstReady = new Promise((resolve) => {
      markReady = resolve;
    });
    client.on('ready', () => {
      this.#hasConnected = true;
      markReady();
      if (this.#isDown) this.#logger.info({ redis: target.label }, 'redis reconnected');
      this.#isDown = false;
      for (const listener of this.#onReady) listener();
    });
    client.on('error', (err: unknown) => {
      if (!this.#isDown && !this.#isClosed) {
        this.#isDown = true;
        this.#logger.warn({ redis: target.label, err: String((err as Error)?.message ?? err) }, 'redis unreachable');
        for (const listener of this.#onDown) listener();
      }
    });
    client.connect().catch(() => {
      // Terminal only when closed; errors are reported through 'error' above.
    });
  }

  /** Connected and answering the handshake (a hung Redis still reads as ready: commands time out). */
  get isReady(): boolean {
    return this.#client.isReady;
  }

  /** Calls `listener` after every (re)connect; returns the function that removes it. */
  onReady(listener: () => void): () => void {
    this.#onReady.add(listener);
    return () => this.#onReady.delete(listener);
  }

  /** Calls `listener` when the connection is lost (once per outage). */
  onDown(listener: () => void): () => void {
    this.#onDown.add(listener);
    return () => this.#onDown.delete(listener);
  }

  /** Resolves once connected, or false after `timeoutMs`. */
  async waitReady(timeoutMs: number): Promise<boolean> {
    if (this.#client.isReady) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.#firstReady.then(() => true as const), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends one command; rejects with GAW_ERR_REDIS_UNAVAILABLE when disconnected (at once, except
   * while the very first connection is still being made), when `timeoutMs` passes without a reply,
   * or when too many commands are outstanding. Redis's own error replies reject as they are.
   * `hasBufferReplies`: bulk strings come back as Buffers (binary values), not strings.
   */
  async command<T = unknown>(
    args: readonly RedisArg[],
    options: { timeoutMs?: number; hasBufferReplies?: boolean } = {},
  ): Promise<T> {
    if (this.#isClosed) throw new UsageError('GAW_ERR_CLOSED', 'the redis connection is closed');
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    if (!this.#client.isReady) {
      if (this.#hasConnected || !(await this.waitReady(timeoutMs)))
        throw unavailable(this.target.label, 'not connected');
    }
    if (this.#outstanding >= this.#maxOutstanding)
      throw unavailable(this.target.label, `${this.#outstanding} commands unanswered (hung?)`);
    this.#outstanding++;
    let timer: NodeJS.Timeout | undefined;
    const sent = this.#client.sendCommand(args, options.hasBufferReplies === true ? bufferReplies : undefined);
    const settled = sent.finally(() => this.#outstanding--);
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(unavailable(this.target.label, `no reply to ${String(args[0])} within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return (await Promise.race([settled, timedOut])) as T;
    } catch (err) {
      if (err instanceof GawError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      // A Redis error reply (ERR, NOSCRIPT, WRONGTYPE) has a code-like first word; anything else is the link.
      if (/^[A-Z]{3,}\b/.test(message)) throw err;
      throw unavailable(this.target.label, message, err);
    } finally {
      clearTimeout(timer);
      settled.catch(() => {});
    }
  }

  /** Runs a Lua script by EVALSHA, loading it with EVAL when Redis does not have it (a restart). */
  async script<T = unknown>(script: LuaScript, keys: readonly string[], args: readonly RedisArg[]): Promise<T> {
    const rest = [String(keys.length), ...keys, ...args];
    try {
      return await this.command<T>(['EVALSHA', script.sha1, ...rest]);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return await this.command<T>(['EVAL', script.source, ...rest]);
    }
  }

  /** SUBSCRIBE; node-redis re-subscribes after a reconnect. Use a link of its own (see duplicate). */
  subscribe(channel: string, listener: Listener): Promise<void> {
    return this.#client.subscribe(channel, listener);
  }

  unsubscribe(channel: string, listener?: Listener): Promise<void> {
    return this.#client.unsubscribe(channel, listener);
  }

  pSubscribe(pattern: string, listener: Listener): Promise<void> {
    return this.#client.pSubscribe(pattern, listener);
  }

  pUnsubscribe(pattern: string, listener?: Listener): Promise<void> {
    return this.#client.pUnsubscribe(pattern, listener);
  }

  /** SUBSCRIBE (PSUBSCRIBE when `isPattern`) with messages and channels as Buffers. */
  subscribeBuffers(channel: string, listener: BufferListener, isPattern = false): Promise<void> {
    return isPattern
      ? this.#client.pSubscribe(channel, listener, true)
      : this.#client.subscribe(channel, listener, true);
  }

  unsubscribeBuffers(channel: string, listener: BufferListener, isPattern = false): Promise<void> {
    return isPattern
      ? this.#client.pUnsubscribe(channel, listener, true)
      : this.#client.unsubscribe(channel, listener, true);
  }

  /** Graceful: waits for replies to commands already sent. Idempotent. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    try {
      await this.#client.close();
    } catch {
      this.#client.destroy();
    }
  }

  /** Now: commands outstanding fail. */
  destroy(): void {
    this.#isClosed = true;
    try {
      this.#client.destroy();
    } catch {
      // already closed
    }
  }
}

/**
 * Opens a connection to `url` (a redis://, rediss://, redis+unix:// or unix:// URL, or a parsed
 * target) in the background and returns at once: commands wait for the first connection up to
 * their timeout, and fail fast while it is down later. Loads @redis/client on first use.
 */
export async function connectRedis(url: string | RedisTarget, options: RedisLinkOptions = {}): Promise<RedisLink> {
  const target = typeof url === 'string' ? parseRedisUrl(url) : url;
  const resolved: Required<RedisLinkOptions> = {
    name: options.name ?? 'gaw',
    commandTimeoutMs: options.commandTimeoutMs ?? 1000,
    maxOutstanding: options.maxOutstanding ?? 64,
    minReconnectMs: options.minReconnectMs ?? 100,
    maxReconnectMs: options.maxReconnectMs ?? 5000,
    logger: options.logger ?? silentLogger,
  };
  const createClient = await loadRedisModule();
  const { minReconnectMs, maxReconnectMs } = resolved;
  const socket = {
    ...(target.path === undefined
      ? { host: target.host, port: target.port, ...(target.isTls ? { tls: true, servername: target.host } : {}) }
      : { path: target.path }),
    connectTimeout: Math.max(resolved.commandTimeoutMs, 1000),
    reconnectStrategy: (retries: number) => Math.min(maxReconnectMs, minReconnectMs * 2 ** Math.min(retries, 16)),
  };
  const client = createClient({
    socket,
    database: target.database,
    username: target.username,
    password: target.password,
    name: resolved.name,
    disableOfflineQueue: true,
    // Our own timer bounds every command; node-redis's default (an AbortSignal per command) is redundant.
    commandOptions: { timeout: 0 },
  });
  return new RedisLink(target, client, resolved);
}
