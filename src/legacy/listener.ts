// The opt-in Python Gaw 0.7 listener: its own TCP port (never negotiated on a GAWP/1 port), the
// same dispatch function as the main server. Owns accepting, the connection caps, the start-up
// warning and close/destroy; what happens on one connection is server-connection.ts's.
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { ConnectionError, UsageError } from '../errors.js';
import { silentLogger } from '../log.js';
import { watchServerErrors } from '../postoffice/index.js';
import { defaultRegistry } from '../serializable/index.js';
import type { LegacyListenerOptions } from './options.js';
import { resolveListenerOptions } from './options.js';
import type { ResolvedListenerOptions } from './options.js';
import { frameBounds, legacyModes, resolveSealing } from './seal.js';
import { LegacyServerConnection } from './server-connection.js';
import type { ServeContext } from './server-connection.js';

export class LegacyListener {
  readonly #options: ResolvedListenerOptions;
  readonly #ctx: ServeContext;
  readonly #server: Server;
  readonly #connections = new Set<LegacyServerConnection>();
  /** Connections that have not yet sent an authentic request, oldest first. */
  readonly #unauthenticated = new Set<LegacyServerConnection>();
  #isListening = false;
  #closing: Promise<void> | undefined;

  constructor(options: LegacyListenerOptions) {
    this.#options = resolveListenerOptions(options);
    const sealing = resolveSealing(options.secret, options.encrypt);
    this.#ctx = {
      sealing,
      bounds: frameBounds(sealing.mode, this.#options.maxPayloadBytes),
      options: this.#options,
      registry: options.registry ?? defaultRegistry,
      logger: options.logger ?? silentLogger,
    };
    this.#server = createServer(
      { allowHalfOpen: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 },
      (socket) => this.#accept(socket),
    );
  }

  /** Starts listening; logs the legacy mode's weaknesses as a warning. */
  listen(): Promise<void> {
    if (this.#closing !== undefined)
      return Promise.reject(new UsageError('GAW_ERR_CLOSED', 'the legacy listener was closed'));
    const { host, port } = this.#options;
    return new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        const where = `${host}:${port}`;
        reject(
          err.code === 'EADDRINUSE'
            ? new UsageError(
                'GAW_ERR_ADDRESS_IN_USE',
                `cannot listen on ${where} for legacy clients: the port is taken`,
                { cause: err },
              )
            : new ConnectionError(
                'GAW_ERR_CONN_CLOSED',
                `cannot listen on ${where} for legacy clients: ${err.message}`,
                { cause: err },
              ),
        );
      };
      this.#server.once('error', onError);
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError);
        // Out of descriptors (or any later error): logged, never thrown, so the process keeps serving.
        watchServerErrors(this.#server, 'legacy listener', this.#ctx.logger, () => {});
        this.#isListening = true;
        this.#warn();
        resolve();
      });
    });
  }

  get address(): AddressInfo {
    const address = this.#server.address();
    if (address === null || typeof address === 'string')
      throw new UsageError('GAW_ERR_CLOSED', 'the legacy listener is not listening');
    return address;
  }

  /** Connections currently open. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Stops accepting; idle connections close now, a call in progress writes its reply first (up to
   * closeTimeoutMs, then its connection is destroyed). Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = new Promise<void>((resolve) => {
      const serverClosed = this.#isListening
        ? new Promise<void>((done) => this.#server.close(() => done()))
        : Promise.resolve();
      const drained = Promise.all(
        [...this.#connections].map((c) => new Promise((done) => c.socket.once('close', done))),
      );
      for (const connection of this.#connections) connection.closeGracefully();
      const deadline = setTimeout(() => this.destroy(), this.#options.closeTimeoutMs).unref();
      void Promise.all([serverClosed, drained]).then(() => {
        clearTimeout(deadline);
        resolve();
      });
    });
    return this.#closing;
  }

  /** Closes every connection now, calls in progress included. */
  destroy(): void {
    if (this.#closing === undefined) void this.close();
    for (const connection of this.#connections) connection.destroy();
  }

  #warn(): void {
    const { host } = this.#options;
    const mode = this.#ctx.sealing.mode;
    const details = { host, port: this.address.port, mode };
    const weakness =
      mode === legacyModes.plain
        ? 'no authentication and no encryption: anyone who can reach the port can call every method'
        : 'no replay protection (a captured request runs again if resent, on any connection); ' +
          (mode === legacyModes.sign ? 'signed mode does not encrypt; ' : 'MAC-then-encrypt; ') +
          'the secret is used raw as both MAC and cipher key';
    this.#ctx.logger.warn(details, `legacy Python Gaw 0.7 listener: ${weakness}. Migrate clients to GAWP/1.`);
  }

  #accept(socket: Socket): void {
    const logger = this.#ctx.logger;
    socket.on('error', () => {});
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    if (this.#connections.size >= this.#options.maxConnections) {
      logger.warn(
        { peer: `${socket.remoteAddress}:${socket.remotePort}` },
        'legacy connection refused: maxConnections reached',
      );
      socket.destroy();
      return;
    }
    if (this.#unauthenticated.size >= this.#options.maxUnauthenticated) {
      // Drop the oldest, so a flood of idle sockets cannot lock honest clients out.
      const oldest = this.#unauthenticated.values().next().value!;
      this.#unauthenticated.delete(oldest);
      logger.info(
        { peer: `${oldest.socket.remoteAddress}:${oldest.socket.remotePort}` },
        'legacy connection dropped: too many unauthenticated',
      );
      oldest.destroy();
    }
    const connection = new LegacyServerConnection(socket, this.#ctx);
    connection.onAuthenticated = () => this.#unauthenticated.delete(connection);
    this.#connections.add(connection);
    this.#unauthenticated.add(connection);
    socket.once('close', () => {
      this.#connections.delete(connection);
      this.#unauthenticated.delete(connection);
    });
  }
}
