// The Redis connections events use, with binary replies and binary pub/sub messages (envelopes are
// bytes). node-redis (`@redis/client`) is loaded only when events are used; a missing package is a
// clear error naming it. Connections reconnect with backoff 100 ms -> 5 s; node-redis re-subscribes
// pub/sub channels itself after a reconnect. Knows nothing of envelopes or streams.
import { UsageError } from '../errors.js';
import { loadRedisModule } from '../redis/index.js';
import type { Logger } from '../log.js';

export type RedisArg = string | Buffer;
export type BufferListener = (message: Buffer, channel: Buffer) => void;

interface NodeRedisClient {
  readonly isReady: boolean;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  connect(): Promise<unknown>;
  duplicate(): NodeRedisClient;
  sendCommand(args: readonly RedisArg[], options?: object): Promise<unknown>;
  subscribe(channel: string, listener: BufferListener, bufferMode: true): Promise<void>;
  unsubscribe(channel: string, listener: BufferListener, bufferMode: true): Promise<void>;
  pSubscribe(pattern: string, listener: BufferListener, bufferMode: true): Promise<void>;
  pUnsubscribe(pattern: string, listener: BufferListener, bufferMode: true): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
}

/** RESP's blob-string type byte ('$'): node-redis's RESP_TYPES.BLOB_STRING, mapped to Buffer. */
const blobString = 36;

/** `redis://[user:pass@]host[:port][/db]`, `rediss://…`, `redis+unix:///path[?db=n]` to node-redis socket options. */
function clientOptions(url: string): object {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      'the events url is not a URL (redis://, rediss:// or redis+unix://)',
    );
  }
  const reconnectStrategy = (retries: number) => Math.min(5000, 100 * 2 ** Math.min(retries, 6));
  const auth = {
    ...(parsed.username !== '' && { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password !== '' && { password: decodeURIComponent(parsed.password) }),
  };
  if (parsed.protocol === 'redis+unix:' || parsed.protocol === 'unix:') {
    const database = Number(parsed.searchParams.get('db') ?? 0);
    return { socket: { path: decodeURIComponent(parsed.pathname), reconnectStrategy }, database, ...auth };
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `the events url scheme ${parsed.protocol} is not redis:, rediss: or redis+unix:`,
    );
  const database = Number(parsed.pathname.slice(1) || 0);
  return {
    socket: {
      host: parsed.hostname,
      port: Number(parsed.port || 6379),
      ...(parsed.protocol === 'rediss:' && { tls: true, servername: parsed.hostname }),
      reconnectStrategy,
    },
    database,
    ...auth,
  };
}

/** One Redis connection: binary commands, binary subscriptions. */
export class EventsLink {
  readonly #client: NodeRedisClient;
  readonly #binary: object;
  #isClosed = false;

  private constructor(client: NodeRedisClient, binary: object) {
    this.#client = client;
    this.#binary = binary;
  }

  static async open(url: string, name: string, logger: Logger): Promise<EventsLink> {
    const createClient = (await loadRedisModule()) as unknown as (options: object) => NodeRedisClient;
    const client = createClient({ ...clientOptions(url), name });
    let isDown = false;
    client.on('error', (err) => {
      if (isDown) return;
      isDown = true;
      logger.warn({ err: (err as Error)?.message ?? String(err), link: name }, 'events: redis unreachable');
    });
    client.on('ready', () => {
      if (isDown) logger.info({ link: name }, 'events: redis reconnected');
      isDown = false;
    });
    const link = new EventsLink(client, { typeMapping: { [blobString]: Buffer } });
    await client.connect();
    return link;
  }

  get isReady(): boolean {
    return this.#client.isReady;
  }

  /** Sends one command; bulk strings come back as Buffers. */
  command<T = unknown>(args: readonly RedisArg[]): Promise<T> {
    if (this.#isClosed) return Promise.reject(new UsageError('GAW_ERR_CLOSED', 'the events connection is closed'));
    return this.#client.sendCommand(args, this.#binary) as Promise<T>;
  }

  subscribe(channel: string, listener: BufferListener, isPattern: boolean): Promise<void> {
    return isPattern
      ? this.#client.pSubscribe(channel, listener, true)
      : this.#client.subscribe(channel, listener, true);
  }

  unsubscribe(channel: string, listener: BufferListener, isPattern: boolean): Promise<void> {
    return isPattern
      ? this.#client.pUnsubscribe(channel, listener, true)
      : this.#client.unsubscribe(channel, listener, true);
  }

  /** Graceful: replies to commands already sent arrive first. Idempotent. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    try {
      await this.#client.close();
    } catch {
      this.#client.destroy();
    }
  }

  /** Now (a blocked XREADGROUP is abandoned). */
  destroy(): void {
    this.#isClosed = true;
    try {
      this.#client.destroy();
    } catch {
      // already closed
    }
  }
}
