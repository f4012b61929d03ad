// GawServer: hosts named services on one GAWP/1 port (and optionally the HTTP bridge and the legacy
// Python Gaw listener), hands each authenticated connection to a ServedConnection (dispatch, the
// in-flight cap, per-connection drain) and runs the lifecycle: listen(), and close() with its
// deadline. JSON-RPC rules live in dispatch.ts; bytes and crypto in src/postoffice.
import type { AddressInfo } from 'node:net';
import { UsageError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { Logger } from '../log.js';
import { KeyRing, Listener, checkCodecName, checkInteger, chooseSuite } from '../postoffice/index.js';
import type { CodecName, Connection, SuiteName } from '../postoffice/index.js';
import { createCodec, defaultMaxDepth, defaultRegistry } from '../serializable/index.js';
import type { Codec } from '../serializable/index.js';
import { Dispatcher } from './dispatch.js';
import { ServedConnection } from './served-connection.js';
import { retireAtAge } from './connection-age.js';
import type { ServiceDescription } from './service.js';
import type { HttpBridge } from './http-bridge.js';
import type { LegacyListener } from '../legacy/index.js';
import { bridgeFor, legacyFor, listeningFields, mountFor } from './server-listeners.js';
import type { ListenerContext } from './server-listeners.js';
import { createHttpHandler } from './http-handler.js';
import type { HttpRequestHandler } from './http-handler.js';
import { checkBridgeToken, dispatcherOptions, serverDefaults, serverOptionKeys } from './server-options.js';
import { ServerObserver } from './server-observer.js';
import { serverTracing } from '../observe/index.js';
import type { MetricsRegistry } from '../observe/index.js';
import type { GawServerOptions, HttpHandlerMountOptions, HttpUpgradeMountOptions } from './server-options.js';
import type { HttpHandlerOptions } from './http-options.js';
import { WebSocketHub } from './ws-hub.js';
import { createHttpUpgradeHandler } from './ws-mount.js';
import type { HttpUpgradeHandler } from './ws-mount.js';
import { checkOptionKeys } from '../options.js';
import type { GawEvents } from '../events/index.js';
import { ServerEvents } from './server-events.js';
import { ServerDiscovery } from './server-discovery.js';

export type {
  GawServerOptions,
  HttpHandlerMountOptions,
  HttpOptions,
  HttpUpgradeMountOptions,
  LegacyOptions,
} from './server-options.js';
export { serverDefaults } from './server-options.js';

export class GawServer {
  readonly #options: GawServerOptions;
  readonly #logger: Logger;
  readonly #dispatcher: Dispatcher;
  readonly #suite: SuiteName;
  readonly #keyRing: KeyRing | undefined;
  readonly #codecs: Record<CodecName, Codec>;
  readonly #maxInFlight: number;
  readonly #maxWaitingBytes: number;
  readonly #closeTimeoutMs: number;
  readonly #maxConnectionAgeMs: number;
  readonly #connections = new Set<ServedConnection>();
  #listener: Listener | undefined;
  #bridge: HttpBridge | undefined;
  #legacy: LegacyListener | undefined;
  readonly #events: ServerEvents | undefined;
  readonly #discovery: ServerDiscovery | undefined;
  #closing: Promise<void> | undefined;
  readonly #hub: WebSocketHub;
  readonly #observer: ServerObserver | undefined;
  readonly #ready: Promise<void> | undefined; // once tracing's @opentelemetry/api is loaded

  constructor(options: GawServerOptions = {}) {
    checkOptionKeys(options, serverOptionKeys.server, 'GawServer options');
    checkOptionKeys(options.http, serverOptionKeys.http, 'GawServer http options');
    checkOptionKeys(options.legacy, serverOptionKeys.legacy, 'GawServer legacy options');
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#keyRing = options.secret === undefined ? undefined : new KeyRing(options.secret);
    this.#suite = chooseSuite(options, this.#keyRing !== undefined);
    this.#maxInFlight = checkInteger('maxInFlight', options.maxInFlight ?? 256, 1);
    this.#maxWaitingBytes = checkInteger('maxWaitingBytes', options.maxWaitingBytes ?? 16 * 1024 * 1024, 0);
    const closeTimeoutMs = options.closeTimeoutMs ?? serverDefaults.closeTimeoutMs;
    this.#closeTimeoutMs = checkInteger('closeTimeoutMs', closeTimeoutMs, 0, 2 ** 31 - 1);
    this.#maxConnectionAgeMs = checkInteger('maxConnectionAgeMs', options.maxConnectionAgeMs ?? 0, 0, 2 ** 30);
    for (const codec of options.codecs ?? []) checkCodecName(codec);
    const registry = options.registry ?? defaultRegistry;
    const maxDepth = options.maxDepth ?? defaultMaxDepth;
    this.#codecs = {
      json: createCodec('json', { registry, maxDepth }),
      msgpack: createCodec('msgpack', { registry, maxDepth }),
    };
    this.#hub = new WebSocketHub({ registry, logger: this.#logger });
    this.#observer = ServerObserver.of(options.metrics, this.#connections);
    const tracing = serverTracing(options.tracing);
    this.#ready = tracing?.ready;
    const builtIns = [tracing?.interceptor, this.#observer?.interceptor]; // tracing outermost
    this.#dispatcher = new Dispatcher(dispatcherOptions(options, registry, this.#logger, builtIns));
    const eventsContext = { ...options, registry, maxDepth, logger: this.#logger };
    this.#events = options.events === undefined ? undefined : new ServerEvents(options.events, eventsContext);
    if (options.discovery !== undefined) this.#discovery = new ServerDiscovery(options.discovery, this.#logger);
    checkBridgeToken(options, this.#keyRing !== undefined);
  }

  /** Hosts a service: `add(MathService, 'hello!')` constructs it with those arguments. Chainable. */
  add(service: new (...args: any[]) => unknown, ...constructorArgs: unknown[]): this {
    if (this.#listener) throw new UsageError('GAW_ERR_INVALID_OPTION', 'add services before listen()');
    this.#dispatcher.add(service, ...constructorArgs);
    return this;
  }

  /** Events on Redis (the `events` option): pass it to services to emit; undefined without the option. */
  get events(): GawEvents | undefined {
    return this.#events?.events;
  }

  get services(): readonly ServiceDescription[] {
    return this.#dispatcher.services;
  }

  get suite(): SuiteName {
    return this.#suite;
  }

  /** The dispatcher behind every transport: hand it to another bridge, or call it in tests. */
  get dispatcher(): Dispatcher {
    return this.#dispatcher;
  }

  /**
   * The HTTP bridge's POST /api contract as a `(req, res) => void` for the application's own HTTP
   * server (node:http, Express, Fastify): the same checks, caps and replies as `http`, over this
   * server's services. Needs a token when the server has a secret, unless `isOpen`.
   */
  httpHandler(options: HttpHandlerMountOptions = {}): HttpRequestHandler {
    checkOptionKeys(options, serverOptionKeys.handler, 'httpHandler() options');
    return createHttpHandler(this.#mount(options, 'httpHandler()'));
  }

  /** `http.websocket` for your server's 'upgrade' event (route /api to it); loads `ws`, rejects naming it. */
  async httpUpgradeHandler({ websocket, ...options }: HttpUpgradeMountOptions = {}): Promise<HttpUpgradeHandler> {
    checkOptionKeys(options, serverOptionKeys.handler, 'httpUpgradeHandler() options');
    const mount = this.#mount(options, 'httpUpgradeHandler()');
    return createHttpUpgradeHandler({ ...mount, websocket: websocket ?? true, webSockets: this.#hub });
  }

  /** Every WebSocket of this server (the bridge's and httpUpgradeHandler()'s), for pushes. */
  get webSockets(): WebSocketHub {
    return this.#hub;
  }

  #mount(options: HttpHandlerMountOptions, what: string): HttpHandlerOptions {
    return mountFor(options, what, this.#keyRing !== undefined, this.#options, this.#context());
  }

  /** The bound TCP address (after listen()). */
  get address(): AddressInfo {
    if (!this.#listener) throw new UsageError('GAW_ERR_CLOSED', 'the server is not listening');
    return this.#listener.address;
  }

  /** The legacy Python Gaw listener's address, when it is on. */
  get legacyAddress(): AddressInfo | undefined {
    return this.#legacy?.address;
  }

  /** The HTTP bridge's address, when it is on. */
  get httpAddress(): AddressInfo | undefined {
    return this.#bridge?.address;
  }

  /** The prom-client Registry of the `metrics` option (for a /metrics route of your own); undefined when off. */
  get metrics(): MetricsRegistry | undefined {
    return this.#observer?.registry;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Resolves when every transport is listening. */
  async listen(): Promise<void> {
    if (this.#closing) throw new UsageError('GAW_ERR_CLOSED', 'the server was closed');
    if (this.#listener) throw new UsageError('GAW_ERR_INVALID_OPTION', 'listen() was already called');
    if (this.#dispatcher.services.length === 0)
      throw new UsageError('GAW_ERR_NOT_A_SERVICE', 'add at least one service before listen()');
    await this.#ready;
    const o = this.#options;
    const codecs = o.codecs ?? [...serverDefaults.codecs];
    this.#discovery?.check(o.host ?? serverDefaults.host);
    const listener = new Listener({
      ...o,
      host: o.host ?? serverDefaults.host,
      port: o.port ?? serverDefaults.port,
      suites: [this.#suite],
      keyRing: this.#keyRing,
      codecs,
      logger: this.#logger,
    });
    this.#listener = listener;
    listener.on('connection', (connection) => this.#attach(connection));
    this.#observer?.watch(listener);
    await listener.listen();
    // What is listening already closes again when something after it cannot start.
    const started: { close(): Promise<void> }[] = [listener];
    try {
      if (o.http) {
        const bridge = bridgeFor(o, o.http, this.#context());
        this.#bridge = bridge;
        // The GAWP port matters more: when it cannot accept for want of descriptors, the bridge makes room.
        listener.on('descriptorsExhausted', () => bridge.makeRoom());
        await bridge.listen();
        started.push(bridge);
      }
      if (o.legacy) {
        this.#legacy = legacyFor(o, o.legacy, this.#context());
        await this.#legacy.listen();
      }
    } catch (err) {
      await Promise.all(started.map((one) => one.close()));
      throw err;
    }
    await this.#events?.start(this.#dispatcher.services, (name) => this.#dispatcher.instanceOf(name));
    const services = this.#dispatcher.services;
    const keyIds = this.#keyRing?.ids ?? [];
    await this.#discovery?.start(listener.address, { services, suites: [this.#suite], codecs, keyIds });
    const fields = { listener, suite: this.#suite, codecs, services, bridge: this.#bridge, legacy: this.#legacy };
    this.#logger.info(listeningFields(fields), 'gaw server listening');
  }

  /**
   * Stops accepting, sends CLOSE on every connection, lets in-flight calls finish within
   * `closeTimeoutMs`, then closes what is left. Idempotent: later calls get the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#discovery?.drain();
    // All stop accepting at once; the bridge and the legacy listener also drain their own
    // connections (under the same deadline), so their promises are awaited only at the end.
    const transports = [this.#listener?.close(), this.#bridge?.close(), this.#legacy?.close(), this.#events?.close()];
    const stopped = Promise.all([...transports, this.#hub.close(this.#closeTimeoutMs)]);
    // Settles when every connection open now has closed (one accepted later is destroyed in #attach).
    const drained = Promise.all(
      [...this.#connections].map(
        ({ connection }) => new Promise<void>((resolve) => connection.once('close', () => resolve())),
      ),
    );
    for (const served of this.#connections) served.beginClose();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#closeTimeoutMs).unref();
    });
    const outcome = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.#logger.warn(
        { connections: this.#connections.size },
        'close deadline passed; closing connections with calls in flight',
      );
      for (const served of this.#connections) served.connection.destroy();
    }
    await Promise.all([stopped, this.#discovery?.stop()]);
    this.#logger.info('gaw server closed');
  }

  /** What the bridge and the legacy listener share with this server. */
  #context(): ListenerContext {
    return {
      dispatcher: this.#dispatcher,
      logger: this.#logger,
      closeTimeoutMs: this.#closeTimeoutMs,
      suite: this.#suite,
      webSockets: this.#hub,
      metrics: this.#observer?.registry,
    };
  }

  #attach(connection: Connection): void {
    if (this.#closing) {
      connection.destroy();
      return;
    }
    const served = new ServedConnection(connection, {
      dispatcher: this.#dispatcher,
      codec: this.#codecs[connection.codec],
      maxInFlight: this.#maxInFlight,
      maxWaitingBytes: this.#maxWaitingBytes,
      logger: this.#logger,
      onRefused: this.#observer?.onRefused,
    });
    this.#connections.add(served);
    this.#observer?.attach(connection);
    retireAtAge(served, this.#maxConnectionAgeMs, this.#closeTimeoutMs);
    connection.on('close', (err) => {
      this.#connections.delete(served);
      if (err) this.#logger.debug({ peer: connection.remoteAddress, code: err.code }, 'connection closed');
    });
  }
}
