// Fixtures for the GawServer / GawClient end-to-end tests: a real server on 127.0.0.1 port 0, a raw
// GAWP/1 client (the postoffice's dial() plus Connection.send) that sends chosen message bytes and
// reads the decoded replies, gates a test opens by hand, a capturing logger, and a server in a child
// process that a test can SIGKILL. Nothing here checks behaviour; the tests do.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { GawServer } from '../../src/server/index.js';
import type { GawServerOptions } from '../../src/server/index.js';
import { entrypoint } from '../../src/server/index.js';
import { dial, parseSecret } from '../../src/postoffice/index.js';
import type { CodecName, Connection, SuiteName } from '../../src/postoffice/index.js';
import { createCodec } from '../../src/serializable/index.js';
import type { Codec } from '../../src/serializable/index.js';
import type { GawError } from '../../src/errors.js';
import type { Logger, LogFn } from '../../src/log.js';

/** A fresh base64 secret of 32 bytes. */
export function makeSecret(): string {
  return randomBytes(32).toString('base64');
}

export type ServiceEntry = (new (...args: any[]) => unknown) | [new (...args: any[]) => unknown, ...unknown[]];

/** Adds the services (a class, or [class, ...constructorArgs]) and listens on 127.0.0.1 port 0 unless told otherwise. */
export async function startServer(options: GawServerOptions, ...services: ServiceEntry[]): Promise<GawServer> {
  const server = new GawServer({ host: '127.0.0.1', port: 0, ...options });
  for (const entry of services) {
    if (Array.isArray(entry)) server.add(entry[0], ...entry.slice(1));
    else server.add(entry);
  }
  await server.listen();
  return server;
}

/** A promise the test resolves by hand: handlers wait on it to stay in flight. */
export class Gate {
  readonly promise: Promise<void>;
  open!: () => void;
  constructor() {
    this.promise = new Promise((resolve) => {
      this.open = resolve;
    });
  }
}

/** Resolves once `count` calls to `arrive()` have happened: "every handler has started". */
export class Arrivals {
  readonly #count: number;
  #seen = 0;
  readonly all: Promise<void>;
  #resolve!: () => void;
  constructor(count: number) {
    this.#count = count;
    this.all = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }
  arrive(): void {
    if (++this.#seen >= this.#count) this.#resolve();
  }
  get seen(): number {
    return this.#seen;
  }
}

/** Rejects with a message naming `what` if `promise` has not settled within `timeoutMs` (a bound, not a sleep). */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

/** Checks `condition` every few milliseconds until it holds; fails naming `what` after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string;
}

/** A pino-shaped logger that keeps every line. */
export function capturingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']): LogFn =>
    ((first: object | string, msg?: string) => {
      if (typeof first === 'string') lines.push({ level, obj: {}, msg: first });
      else lines.push({ level, obj: first as Record<string, unknown>, msg: msg ?? '' });
    }) as LogFn;
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    isLevelEnabled: () => true,
  };
}

export interface RawClientOptions {
  suite?: SuiteName;
  codec?: CodecName;
  secret?: string;
}

/**
 * A GAWP/1 client that sends whatever messages it is given (objects through the codec, Buffers as
 * they are) and hands back each reply decoded but not revived, in arrival order.
 */
export class RawClient {
  readonly connection: Connection;
  readonly codec: Codec;
  /** Replies not yet taken, oldest at #head (no shift(): tests read tens of thousands). */
  #replies: unknown[] = [];
  #head = 0;
  #waiter: ((reply: unknown) => void) | undefined;
  #hasGoaway = false;
  readonly closed: Promise<GawError | undefined>;

  private constructor(connection: Connection) {
    this.connection = connection;
    this.codec = createCodec(connection.codec);
    connection.on('message', (bytes) => {
      const reply = this.codec.decode(bytes);
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (waiter) waiter(reply);
      else this.#replies.push(reply);
    });
    connection.on('closeReceived', () => {
      this.#hasGoaway = true;
    });
    this.closed = new Promise((resolve) => connection.once('close', resolve));
  }

  static async open(port: number, options: RawClientOptions = {}): Promise<RawClient> {
    const suite = options.suite ?? (options.secret === undefined ? 'none' : 'cbc');
    const psk = options.secret === undefined ? undefined : parseSecret(options.secret);
    const connection = await dial({ host: '127.0.0.1', port, suite, psk, codec: options.codec ?? 'json' });
    return new RawClient(connection);
  }

  /** True once the server sent CLOSE. */
  get hasGoaway(): boolean {
    return this.#hasGoaway;
  }

  /** Queues one message: a Buffer as is, anything else encoded with the negotiated codec. */
  send(message: unknown): void {
    this.connection.send(Buffer.isBuffer(message) ? message : this.codec.encode(message));
  }

  /** The next reply, waiting at most `timeoutMs`. */
  next(timeoutMs = 5_000): Promise<unknown> {
    if (this.#head < this.#replies.length) {
      const reply = this.#replies[this.#head++];
      if (this.#head === this.#replies.length) {
        this.#replies = [];
        this.#head = 0;
      }
      return Promise.resolve(reply);
    }
    if (this.#waiter) return Promise.reject(new Error('a read is already waiting'));
    return within(
      new Promise((resolve) => {
        this.#waiter = resolve;
      }),
      timeoutMs,
      'a reply from the server',
    ).catch((err: unknown) => {
      this.#waiter = undefined;
      throw err;
    });
  }

  /** Sends a request and returns its reply (the next one to arrive). */
  async call(message: unknown): Promise<unknown> {
    this.send(message);
    return this.next();
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

/** Answers `whoami` with the label it was started with; `echo` returns its argument. */
export class LabelService {
  static serviceName = 'label';
  readonly #label: string;
  constructor(label: string) {
    this.#label = label;
  }
  @entrypoint whoami(): string {
    return this.#label;
  }
  @entrypoint echo(value: unknown): unknown {
    return value;
  }
  /** Never answers: the caller's timeout or abort is what ends the call. */
  @entrypoint hang(): Promise<never> {
    return new Promise(() => {});
  }
}

/** A server in a child process (see forkListening): its port, and kill() to end it outright. */
export class ForkedServer {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exited: Promise<void>;

  constructor(child: ChildProcess, port: number, exited: Promise<void>) {
    this.child = child;
    this.port = port;
    this.exited = exited;
  }

  /** SIGKILL: every socket dies without a CLOSE or a FIN from gaw. */
  kill(): Promise<void> {
    this.child.kill('SIGKILL');
    return this.exited;
  }
}

/**
 * Forks `script` (a compiled test module that serves on port 0 or a given port and then sends
 * `{ port }` over IPC) and resolves once it listens.
 */
export async function forkListening(
  script: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<ForkedServer> {
  const child = fork(script, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], ...(env && { env }) });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await within(
    new Promise<number>((resolve, reject) => {
      child.once('message', (message) => resolve((message as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`the child server exited with ${code} before listening`)));
    }),
    10_000,
    'the child server listening',
  );
  return new ForkedServer(child, port, exited);
}

/** A GawServer hosting LabelService in a child process, so a test can kill it outright. */
export class ChildServer extends ForkedServer {
  /** `options` must be plain JSON (no logger, no registry). */
  static async start(label: string, options: GawServerOptions = {}): Promise<ChildServer> {
    const { child, port, exited } = await forkListening(fileURLToPath(import.meta.url), [
      '--child-server',
      label,
      JSON.stringify(options),
    ]);
    return new ChildServer(child, port, exited);
  }
}

if (process.argv[2] === '--child-server' && process.send) {
  const options = JSON.parse(process.argv[4] ?? '{}') as GawServerOptions;
  const server = new GawServer({ host: '127.0.0.1', port: 0, ...options }).add(
    LabelService,
    process.argv[3] ?? 'child',
  );
  await server.listen();
  process.send({ port: server.address.port });
  process.on('disconnect', () => process.exit(0));
}
