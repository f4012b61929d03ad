// The server side of GAWP/1: accepts TCP connections, caps unauthenticated sockets, runs the
// handshake (rejects, key schedule, confirms) and hands authenticated Connections to its owner.
// Which hellos it refuses is decided in hello-check.ts; what runs over a connection is the owner's.
import { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { ConnectionError, UsageError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { Logger } from '../log.js';
import { Connection } from './connection.js';
import { watchServerErrors } from './descriptors.js';
import {
  CONFIRM_BYTES,
  HELLO_BYTES,
  agree,
  clientConfirm,
  decodeHello,
  deriveKeys,
  encodeHello,
  encodeReject,
  generateEphemeral,
  hasFs,
  hasMagic,
  isSameTag,
  serverConfirm,
  transcriptHash,
} from './handshake.js';
import { answerFlags, checkHello } from './hello-check.js';
import type { KeyRing } from './secret.js';
import { checkInteger, resolveLimits } from './options.js';
import type { PostofficeLimits } from './options.js';
import { HandshakeReader } from './reader.js';
import { createOpener, createSealer } from './seal.js';
import { FLAG_CTX } from './call-context.js';
import { FLAG_STREAM } from './stream-entries.js';
import { checkCodecName, checkSuiteName, codecBytes, codecNames, rejectReasons, suites } from './suite.js';
import type { CodecName, SuiteName } from './suite.js';

export interface ListenerOptions extends Partial<PostofficeLimits> {
  host?: string;
  port?: number;
  /** The suites accepted (usually exactly one). There is never a fallback between them. */
  suites: readonly SuiteName[];
  /** Required unless the only suite is `none`. */
  keyRing?: KeyRing | undefined;
  /** The codecs accepted (default both). */
  codecs?: readonly CodecName[];
  /** Refuse clients that do not offer X25519 forward secrecy (default false). */
  requireForwardSecrecy?: boolean;
  /** Answer the call-context extension when a client offers it (default true). */
  callContext?: boolean;
  /** Answer the stream extension when a client offers it with the call context (default true). */
  streams?: boolean;
  /** Sockets still in the handshake; at the cap the oldest is dropped (default 128). */
  maxUnauthenticated?: number;
  /** Authenticated connections; past it new clients are refused as busy (default 65,536). */
  maxConnections?: number;
  logger?: Logger;
}

export type AuthFailure = { peer: string; reason: string };

export interface ListenerEvents {
  connection: [connection: Connection];
  /** A handshake that failed authentication or broke the protocol (one line, no key material). */
  authFailure: [failure: AuthFailure];
  /** A hello refused with a ServerReject (reason: version, suite, codec, keyId, busy, flags). */
  handshakeRejected: [rejection: AuthFailure];
  descriptorsExhausted: []; // accept() failed with EMFILE/ENFILE: free some (the port stays open)
}

export class Listener extends EventEmitter<ListenerEvents> {
  readonly #server: Server;
  readonly #options: ListenerOptions;
  readonly #limits: PostofficeLimits;
  readonly #logger: Logger;
  readonly #suiteIds: number[];
  readonly #codecIds: number[];
  readonly #maxUnauthenticated: number;
  readonly #maxConnections: number;
  readonly #unauthenticated = new Set<Socket>();
  readonly #connections = new Set<Connection>();
  readonly #rejected = new WeakSet<Socket>();
  /** Sockets this listener closed itself (a failure, the cap, close()): their end is not the peer's doing. */
  readonly #dropped = new WeakSet<Socket>();
  /** Peer addresses taken at accept: a closed socket no longer knows its own. */
  readonly #peers = new WeakMap<Socket, string>();
  #isClosed = false;

  constructor(options: ListenerOptions) {
    super();
    this.#options = options;
    this.#limits = resolveLimits(options);
    this.#logger = options.logger ?? silentLogger;
    if (!Array.isArray(options.suites as unknown) || options.suites.length === 0)
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'at least one suite must be accepted');
    this.#suiteIds = options.suites.map((name) => suites[checkSuiteName(name)]);
    const codecs = options.codecs ?? codecNames;
    if (!Array.isArray(codecs as unknown) || codecs.length === 0)
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'at least one codec must be accepted');
    this.#codecIds = codecs.map((name) => codecBytes[checkCodecName(name)]);
    if (options.port !== undefined) checkInteger('port', options.port, 0, 65_535);
    this.#maxUnauthenticated = checkInteger('maxUnauthenticated', options.maxUnauthenticated ?? 128, 1);
    this.#maxConnections = checkInteger('maxConnections', options.maxConnections ?? 65_536, 1);
    if (this.#suiteIds.some((id) => id !== suites.none) && options.keyRing === undefined) {
      throw new UsageError('GAW_ERR_BAD_SECRET', `suite ${options.suites.join('/')} needs a secret`);
    }
    this.#server = createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 }, (socket) =>
      this.#accept(socket),
    );
  }

  /** Resolves with the bound address once listening (port 0 picks a free port). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        const where = `${this.#options.host ?? '127.0.0.1'}:${this.#options.port ?? 0}`;
        reject(
          err.code === 'EADDRINUSE'
            ? new UsageError('GAW_ERR_ADDRESS_IN_USE', `cannot listen on ${where}: the port is taken`, { cause: err })
            : new ConnectionError('GAW_ERR_CONN_CLOSED', `cannot listen on ${where}: ${err.message}`, { cause: err }),
        );
      };
      this.#server.once('error', onError);
      this.#server.listen(this.#options.port ?? 0, this.#options.host ?? '127.0.0.1', () => {
        this.#server.off('error', onError);
        watchServerErrors(this.#server, 'GAWP listener', this.#logger, () => this.emit('descriptorsExhausted'));
        resolve(this.address);
      });
    });
  }

  get address(): AddressInfo {
    const address = this.#server.address();
    if (address === null || typeof address === 'string')
      throw new UsageError('GAW_ERR_CLOSED', 'the listener is not listening');
    return address;
  }

  /** Authenticated connections currently open. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  get unauthenticatedCount(): number {
    return this.#unauthenticated.size;
  }

  /**
   * Stops accepting and drops sockets still in the handshake; authenticated connections are the
   * owner's and stay open. Resolves once the port is released, without waiting for them.
   */
  close(): Promise<void> {
    if (this.#isClosed) return Promise.resolve();
    this.#isClosed = true;
    for (const socket of this.#unauthenticated) this.#drop(socket);
    this.#unauthenticated.clear();
    // net.Server's close callback would wait for every connection, including the owner's.
    this.#server.close();
    return new Promise((resolve) => setImmediate(resolve));
  }

  #accept(socket: Socket): void {
    if (this.#isClosed) {
      socket.destroy();
      return;
    }
    if (this.#unauthenticated.size >= this.#maxUnauthenticated) {
      // Drop the oldest, so a flood of idle sockets cannot lock honest clients out.
      const oldest = this.#unauthenticated.values().next().value!;
      this.#unauthenticated.delete(oldest);
      this.#drop(oldest);
    }
    this.#unauthenticated.add(socket);
    this.#peers.set(socket, `${socket.remoteAddress}:${socket.remotePort}`);
    socket.on('error', () => {});
    const timer = setTimeout(() => {
      // A rejected peer that never closes is dropped quietly at the same deadline.
      if (this.#rejected.has(socket)) this.#drop(socket);
      else this.#fail(socket, 'handshake timeout');
    }, this.#limits.handshakeTimeoutMs).unref();
    socket.once('close', () => {
      clearTimeout(timer);
      this.#unauthenticated.delete(socket);
    });
    this.#handshake(socket).then(
      (connection) => {
        // Rejected or failed: the socket stays counted (and under the deadline) until it closes.
        if (connection === undefined) return;
        clearTimeout(timer);
        this.#unauthenticated.delete(socket);
        this.#connections.add(connection);
        connection.once('close', () => this.#connections.delete(connection));
        this.emit('connection', connection);
      },
      () => {
        clearTimeout(timer);
        socket.destroy();
      },
    );
  }

  #drop(socket: Socket): void {
    this.#dropped.add(socket);
    socket.destroy();
  }

  #fail(socket: Socket, reason: string): void {
    if (this.#dropped.has(socket)) return;
    const peer = this.#peers.get(socket) ?? `${socket.remoteAddress}:${socket.remotePort}`;
    this.#logger.warn({ peer, reason }, 'handshake failed');
    this.emit('authFailure', { peer, reason });
    this.#drop(socket);
  }

  #reject(socket: Socket, reason: keyof typeof rejectReasons, detail: number): undefined {
    const peer = this.#peers.get(socket) ?? '';
    this.#logger.info({ peer, reason }, 'handshake rejected');
    this.emit('handshakeRejected', { peer, reason });
    this.#rejected.add(socket);
    socket.end(encodeReject(rejectReasons[reason], detail));
    return undefined;
  }

  /** Resolves with the authenticated connection, or undefined when the socket was rejected or failed. */
  async #handshake(socket: Socket): Promise<Connection | undefined> {
    const reader = new HandshakeReader(socket);
    const magic = await reader.read(4);
    if (!hasMagic(magic)) return void this.#fail(socket, 'not a GAWP hello');
    const clientHello = Buffer.concat([magic, await reader.read(HELLO_BYTES - 4)]);
    const hello = decodeHello(clientHello);
    const problem = checkHello(hello, {
      suiteIds: this.#suiteIds,
      codecIds: this.#codecIds,
      requireForwardSecrecy: this.#options.requireForwardSecrecy,
      keyRing: this.#options.keyRing,
      connectionCount: this.#connections.size,
      maxConnections: this.#maxConnections,
    });
    if (problem !== undefined) return this.#reject(socket, problem[0], problem[1]);

    const hasForwardSecrecy = hasFs(hello.flags);
    const ephemeral = hasForwardSecrecy ? generateEphemeral() : undefined;
    const shared = ephemeral ? agree(ephemeral, hello.eph) : undefined;
    if (ephemeral && shared === undefined) return void this.#fail(socket, 'unusable X25519 key in the hello');
    const flags = answerFlags(hello.flags, this.#options);
    const callContext = (flags & FLAG_CTX) !== 0 ? ('server' as const) : undefined;
    const hasStreams = (flags & FLAG_STREAM) !== 0;
    const serverHello = encodeHello({
      ...hello,
      flags,
      random: randomBytes(32),
      eph: ephemeral?.publicKey ?? Buffer.alloc(32),
    });
    if (hello.suite === suites.none) {
      socket.write(serverHello);
      const session = {
        suite: hello.suite,
        codec: hello.codec,
        keyId: 0,
        hasForwardSecrecy: false,
        callContext,
        hasStreams,
        sealer: createSealer(suites.none, undefined, undefined),
        opener: createOpener(suites.none, undefined, undefined),
      };
      return new Connection(socket, session, this.#limits, this.#logger, reader.detach());
    }
    const th = transcriptHash(clientHello, serverHello);
    const keys = deriveKeys({
      psk: this.#options.keyRing!.get(hello.keyId)!,
      shared,
      clientRandom: hello.random,
      serverRandom: serverHello.subarray(9, 41),
      th,
    });
    socket.write(Buffer.concat([serverHello, serverConfirm(keys, th)]));
    let finish: Buffer;
    try {
      finish = await reader.read(CONFIRM_BYTES);
    } catch {
      // Leaving right after the ServerHello is what a client does when our confirm fails for it.
      return void this.#fail(socket, 'the client left after the ServerHello (its secret is probably wrong)');
    }
    if (!isSameTag(finish, clientConfirm(keys, th)))
      return void this.#fail(socket, 'wrong client confirm (wrong secret or tampering)');
    const session = {
      suite: hello.suite,
      codec: hello.codec,
      keyId: hello.keyId,
      hasForwardSecrecy,
      callContext,
      hasStreams,
      sealer: createSealer(hello.suite, keys.s2cEnc, keys.s2cMac),
      opener: createOpener(hello.suite, keys.c2sEnc, keys.c2sMac),
    };
    return new Connection(socket, session, this.#limits, this.#logger, reader.detach());
  }
}
