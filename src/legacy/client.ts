// The legacy client: calls an unmodified Python Gaw 0.7 server (plain, signed or encrypted). A small
// pool of connections, each carrying one call at a time as Python Gaw requires; further calls wait
// for a free connection. Owns the call lifecycle (ids, timeouts, abort, errors); framing is in
// client-connection.ts, the envelope in message.ts, the Python value dialect in dialect.ts, the
// checks on a call's method, params and reply bytes in client-checks.ts.
import { randomBytes } from 'node:crypto';
import { AbortError, ConnectionError, ProtocolError, RemoteError, TimeoutError, UsageError } from '../errors.js';
import { isPlainObject, rpcErrorCodes } from '../jsonrpc/index.js';
import { defaultRegistry } from '../serializable/index.js';
import type { Registry } from '../serializable/index.js';
import { isArgsAndKwargs, openBodyOrFail, readReplyBytes, toPath } from './client-checks.js';
import { LegacyClientConnection } from './client-connection.js';
import { envelopeBytes, sealFrame } from './codec.js';
import { fromPythonData, toPythonData } from './dialect.js';
import type { FrameBounds } from './frame.js';
import { isSameId, requestEnvelope } from './message.js';
import type { LegacyReply } from './message.js';
import type { LegacyClientOptions, ResolvedClientOptions } from './options.js';
import { MAX_TIMER_MS, resolveClientOptions } from './options.js';
import { frameBounds, resolveSealing } from './seal.js';
import type { LegacySealing } from './seal.js';

export interface LegacyCallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface Waiter {
  resolve: (connection: LegacyClientConnection) => void;
  reject: (err: Error) => void;
}

/** Python Gaw's own 'not found' message for an unknown path, which maps to JSON-RPC -32601. */
const NOT_FOUND = /^path: .* not found$/s;

export class LegacyClient {
  readonly #options: ResolvedClientOptions;
  readonly #sealing: LegacySealing;
  readonly #bounds: FrameBounds;
  readonly #registry: Registry;
  readonly #idle: LegacyClientConnection[] = [];
  readonly #idleTimers = new Map<LegacyClientConnection, NodeJS.Timeout>();
  readonly #all = new Set<LegacyClientConnection>();
  #opening = 0;
  readonly #waiters: Waiter[] = [];
  #inFlight = 0;
  #isClosed = false;
  #isDestroyed = false;
  #closing: Promise<void> | undefined;
  #onIdle: (() => void) | undefined;

  constructor(options: LegacyClientOptions) {
    this.#options = resolveClientOptions(options);
    this.#sealing = resolveSealing(options.secret, options.encrypt);
    this.#bounds = frameBounds(this.#sealing.mode, this.#options.maxPayloadBytes);
    this.#registry = options.registry ?? defaultRegistry;
  }

  /**
   * Calls `method` ('service.method', sent as Python's path 'service/method'). `params`: an array
   * (positional args), a plain object (keyword args), or `{ args, kwargs }` for both: an object whose
   * only keys are `args` (an array) and/or `kwargs` (a plain object). Resolves to the revived result.
   * A Python exception rejects with RemoteError (message "Name: message", data { name, message, trace });
   * transport failures reject with ConnectionError, ProtocolError or TimeoutError.
   */
  async call(method: string, params?: unknown, options: LegacyCallOptions = {}): Promise<unknown> {
    if (this.#isClosed) throw new UsageError('GAW_ERR_CLOSED', 'the legacy client was closed');
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)) {
      throw new UsageError(
        'GAW_ERR_INVALID_OPTION',
        `timeoutMs must be a number of milliseconds from 1 to ${MAX_TIMER_MS}`,
      );
    }
    const signal = options.signal;
    if (signal?.aborted) throw new AbortError(`${method} was aborted`, { cause: signal.reason });
    const id = BigInt(`0x${randomBytes(16).toString('hex')}`);
    const json = envelopeBytes(toPythonData(requestEnvelope({ id, path: toPath(method), ...this.#arguments(params) })));
    if (json.length > this.#options.maxPayloadBytes) {
      throw new ProtocolError(
        'GAW_ERR_FRAME_TOO_LARGE',
        `the request is ${json.length} bytes, above maxPayloadBytes (${this.#options.maxPayloadBytes})`,
      );
    }
    const frame = sealFrame(this.#sealing, json);

    this.#inFlight += 1;
    let connection: LegacyClientConnection | undefined;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      const stop = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new TimeoutError('GAW_ERR_CALL_TIMEOUT', `${method} got no reply within ${timeoutMs} ms`)),
          timeoutMs,
        );
        onAbort = () => reject(new AbortError(`${method} was aborted`, { cause: signal?.reason }));
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      const acquiring = this.#acquire();
      connection = await Promise.race([acquiring, stop]).catch((err: unknown) => {
        // A connection that arrives after the caller gave up goes back to the pool unused.
        acquiring.then(
          (late) => this.#release(late),
          () => {},
        );
        throw err;
      });
      const body = await Promise.race([connection.exchange(frame), stop]);
      const reply = readReplyBytes(openBodyOrFail(this.#sealing, body));
      if (reply.kind !== 'transport-error' && !isSameId(reply.respTo, id)) {
        throw new ProtocolError('GAW_ERR_BAD_RESPONSE', 'the legacy server replied to a different request id');
      }
      // The exchange is complete and in step: the connection can carry the next call.
      this.#release(connection);
      connection = undefined;
      return this.#interpret(reply);
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
      // Still held here means the exchange failed or was abandoned: its reply can no longer be matched.
      connection?.destroy();
      this.#inFlight -= 1;
      if (this.#inFlight === 0) this.#onIdle?.();
    }
  }

  /** Stops new calls; calls already made finish (or time out), then every connection closes. Idempotent. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#isClosed = true;
    this.#closing = new Promise<void>((resolve) => {
      const finish = (): void => {
        this.destroy();
        resolve();
      };
      if (this.#inFlight === 0) finish();
      else this.#onIdle = finish;
    });
    return this.#closing;
  }

  /** Closes every connection now; calls in progress reject with ConnectionError. */
  destroy(): void {
    this.#isClosed = true;
    this.#isDestroyed = true;
    for (const waiter of this.#waiters.splice(0)) {
      waiter.reject(
        new ConnectionError('GAW_ERR_CONN_CLOSED', 'the legacy client was destroyed', { mayHaveReachedServer: false }),
      );
    }
    for (const connection of [...this.#all]) connection.destroy();
  }

  #arguments(params: unknown): { args: unknown[]; kwargs: Record<string, unknown> } {
    const encode = (value: unknown, path: string): unknown => this.#registry.encode(value, { path });
    let args: unknown = [];
    let kwargs: unknown = {};
    if (Array.isArray(params)) args = params;
    else if (isArgsAndKwargs(params)) ({ args = [], kwargs = {} } = params);
    else if (isPlainObject(params)) kwargs = params;
    else if (params !== undefined)
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'params must be an array, a plain object or { args, kwargs }');
    const encodedKwargs: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(kwargs as Record<string, unknown>)) {
      Object.defineProperty(encodedKwargs, name, {
        value: encode(value, `kwargs.${name}`),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return { args: (args as unknown[]).map((value, i) => encode(value, `args[${i}]`)), kwargs: encodedKwargs };
  }

  #interpret(reply: LegacyReply): unknown {
    if (reply.kind === 'transport-error') {
      const hint =
        reply.name === 'DecodeError' ? " (the secret or the encrypt setting probably differs from the server's)" : '';
      throw new ProtocolError(
        'GAW_ERR_LEGACY_REJECTED',
        `the legacy server could not read the request: ${reply.name}: ${reply.message}${hint}`,
      );
    }
    if (reply.kind === 'exception') {
      const rpcCode =
        reply.name === 'KeyError' && NOT_FOUND.test(reply.message)
          ? rpcErrorCodes.METHOD_NOT_FOUND
          : rpcErrorCodes.SERVER_ERROR;
      const data = { name: reply.name, message: reply.message, trace: reply.trace };
      throw new RemoteError(rpcCode, `${reply.name}: ${reply.message}`, data);
    }
    return this.#registry.decode(fromPythonData(reply.payload), { path: 'result' });
  }

  /** An idle connection, a new one if the pool has room, or the next one released. */
  #acquire(): Promise<LegacyClientConnection> {
    const idle = this.#idle.pop();
    if (idle !== undefined) {
      clearTimeout(this.#idleTimers.get(idle));
      this.#idleTimers.delete(idle);
      return Promise.resolve(idle);
    }
    if (this.#all.size + this.#opening < this.#options.maxConnections) return this.#open();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  async #open(): Promise<LegacyClientConnection> {
    this.#opening += 1;
    try {
      const { host, port, connectTimeoutMs } = this.#options;
      const connection = await LegacyClientConnection.open(host, port, this.#bounds, connectTimeoutMs);
      if (this.#isDestroyed) {
        connection.destroy();
        throw new ConnectionError('GAW_ERR_CONN_CLOSED', 'the legacy client was destroyed', {
          mayHaveReachedServer: false,
        });
      }
      this.#all.add(connection);
      connection.onClose = () => this.#forget(connection);
      return connection;
    } finally {
      this.#opening -= 1;
    }
  }

  #release(connection: LegacyClientConnection): void {
    if (connection.isClosed) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) return waiter.resolve(connection);
    if (this.#isClosed) return connection.destroy();
    this.#idle.push(connection);
    this.#idleTimers.set(connection, setTimeout(() => connection.destroy(), this.#options.idleTimeoutMs).unref());
  }

  /** A connection closed: drop it, and open a replacement for a waiting call. */
  #forget(connection: LegacyClientConnection): void {
    this.#all.delete(connection);
    clearTimeout(this.#idleTimers.get(connection));
    this.#idleTimers.delete(connection);
    const at = this.#idle.indexOf(connection);
    if (at >= 0) this.#idle.splice(at, 1);
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) this.#open().then(waiter.resolve, waiter.reject);
  }
}
