// The client side of GAWP/1: connects with a deadline, runs the handshake and returns an
// authenticated Connection. Every failure here happens before any request is written, so each
// error says the request never reached the server (mayHaveReachedServer = false). What a
// ServerReject means (HandshakeRejectedError) is in reject.ts.
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { AbortError, ConnectionError, GawError, ProtocolError, TimeoutError, UsageError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { Logger } from '../log.js';
import { Connection } from './connection.js';
import {
  CONFIRM_BYTES,
  HELLO_BYTES,
  REJECT_BYTES,
  agree,
  clientConfirm,
  decodeHello,
  decodeReject,
  deriveKeys,
  encodeHello,
  generateEphemeral,
  hasMagic,
  isReject,
  isSameTag,
  serverConfirm,
  serverHelloBytes,
  transcriptHash,
  VERSION,
} from './handshake.js';
import { checkInteger, defaultConnectTimeoutMs, resolveLimits } from './options.js';
import type { PostofficeLimits } from './options.js';
import { HandshakeReader } from './reader.js';
import { createOpener, createSealer } from './seal.js';
import { FLAG_CTX } from './call-context.js';
import { HandshakeRejectedError } from '../errors.js';
import { rejected } from './reject.js';
import { FLAG_STREAM } from './stream-entries.js';
import { FLAG_FS, checkCodecName, checkSuiteName, codecBytes, suites } from './suite.js';
import type { CodecName, SuiteName } from './suite.js';

export interface DialOptions extends Partial<PostofficeLimits> {
  host: string;
  port: number;
  suite: SuiteName;
  /** The decoded pre-shared key; required unless the suite is `none`. */
  psk?: Buffer | undefined;
  keyId?: number;
  codec?: CodecName;
  /** Offer X25519 forward secrecy (default true with a secret). */
  forwardSecrecy?: boolean;
  /** The TCP connect deadline (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * Offer the call-context extension (deadlines, request ids, trace context, cancel; default
   * true). A server that does not speak it answers without it, or refuses the flag and is redialed.
   */
  callContext?: boolean;
  /** Offer the stream extension (with the call context; default true). A server may answer without it. */
  streams?: boolean;
  signal?: AbortSignal | undefined;
  logger?: Logger;
}

/** Connects and handshakes; rejects with a GawError that says what went wrong. */
export async function dial(options: DialOptions): Promise<Connection> {
  try {
    return await dialOnce(options);
  } catch (err) {
    // A server from before the call-context extension refuses the unknown CTX flag (reason flags,
    // detail 0): dial once more without it, and the connection behaves exactly as before.
    if (!(err instanceof HandshakeRejectedError) || (err as { isOldServer?: boolean }).isOldServer !== true) throw err;
    // Older still: a server from before the stream extension refuses STREAM the same way.
    if (options.callContext !== false && options.streams !== false) return dial({ ...options, streams: false });
    if (options.callContext !== false) return dialOnce({ ...options, callContext: false });
    throw err;
  }
}

async function dialOnce(options: DialOptions): Promise<Connection> {
  const limits = resolveLimits(options);
  checkDialOptions(options);
  const suite = suites[options.suite];
  if (options.signal?.aborted) throw new AbortError(undefined, { cause: options.signal.reason });
  const socket = await openSocket(options);
  const timer = setTimeout(() => {
    socket.destroy(
      new TimeoutError(
        'GAW_ERR_HANDSHAKE_TIMEOUT',
        `the handshake with ${options.host}:${options.port} did not finish within ${limits.handshakeTimeoutMs} ms`,
      ),
    );
  }, limits.handshakeTimeoutMs).unref();
  const onAbort = () => socket.destroy(new AbortError());
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const reader = new HandshakeReader(socket);
  try {
    return await handshake(socket, reader, options, suite, limits);
  } catch (err) {
    socket.destroy();
    const reason = (socket as { errored?: unknown }).errored;
    if (reason instanceof GawError) throw reason;
    throw err;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Refuses bad dial options before any socket is opened; each error names the option. */
function checkDialOptions(options: DialOptions): void {
  if (typeof options.host !== 'string' || options.host.length === 0) {
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `host must be a non-empty string, not ${JSON.stringify(options.host)}`,
    );
  }
  checkInteger('port', options.port, 1, 65_535);
  checkSuiteName(options.suite);
  if (options.codec !== undefined) checkCodecName(options.codec);
  if (options.keyId !== undefined) checkInteger('keyId', options.keyId, 0, 255);
  if (options.connectTimeoutMs !== undefined) checkInteger('connectTimeoutMs', options.connectTimeoutMs, 1);
  if (options.suite === 'none') return;
  if (options.psk === undefined) throw new UsageError('GAW_ERR_BAD_SECRET', `suite ${options.suite} needs a secret`);
  if (!Buffer.isBuffer(options.psk) || ![16, 24, 32].includes(options.psk.length)) {
    const size = Buffer.isBuffer(options.psk) ? `${options.psk.length} bytes` : typeof options.psk;
    throw new UsageError(
      'GAW_ERR_BAD_SECRET',
      `the decoded secret must be 16, 24 or 32 bytes, not ${size} (use parseSecret)`,
    );
  }
}

function openSocket(options: DialOptions): Promise<Socket> {
  const where = `${options.host}:${options.port}`;
  const connectTimeoutMs = options.connectTimeoutMs ?? defaultConnectTimeoutMs;
  return new Promise((resolve, reject) => {
    const socket = netConnect({
      host: options.host,
      port: options.port,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: 30_000,
    });
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const onConnect = () => {
      cleanup();
      resolve(socket);
    };
    const onError = (err: NodeJS.ErrnoException) => {
      cleanup();
      socket.destroy();
      const refused = err.code === 'ECONNREFUSED';
      reject(
        new ConnectionError(
          refused ? 'GAW_ERR_CONN_REFUSED' : 'GAW_ERR_CONN_CLOSED',
          refused ? `connection refused by ${where}` : `cannot connect to ${where}: ${err.message}`,
          { cause: err, mayHaveReachedServer: false },
        ),
      );
    };
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(new AbortError());
    };
    const timer = setTimeout(() => {
      cleanup();
      socket.destroy();
      reject(
        new TimeoutError('GAW_ERR_CONNECT_TIMEOUT', `connecting to ${where} took longer than ${connectTimeoutMs} ms`),
      );
    }, connectTimeoutMs).unref();
    socket.once('connect', onConnect);
    socket.once('error', onError);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function handshake(
  socket: Socket,
  reader: HandshakeReader,
  options: DialOptions,
  suite: number,
  limits: PostofficeLimits,
): Promise<Connection> {
  const keyId = suite === suites.none ? 0 : (options.keyId ?? 0);
  const hasForwardSecrecy = suite !== suites.none && (options.forwardSecrecy ?? true);
  const codec = codecBytes[options.codec ?? 'json'];
  const ephemeral = hasForwardSecrecy ? generateEphemeral() : undefined;
  const offered = {
    suite,
    flags:
      (hasForwardSecrecy ? FLAG_FS : 0) |
      (options.callContext === false ? 0 : FLAG_CTX | (options.streams === false ? 0 : FLAG_STREAM)),
    codec,
    keyId,
    random: randomBytes(32),
    eph: ephemeral?.publicKey ?? Buffer.alloc(32),
  };
  const clientHello = encodeHello(offered);
  socket.write(clientHello);

  const head = await reader.read(REJECT_BYTES);
  if (!hasMagic(head)) throw badHandshake('the server did not answer with a GAWP/1 hello');
  if (isReject(head)) throw rejected(decodeReject(head), options);
  const serverHello = Buffer.concat([head, await reader.read(serverHelloBytes(suite) - REJECT_BYTES)]);
  const hello = decodeHello(serverHello);
  if (
    hello.version !== VERSION ||
    hello.suite !== offered.suite ||
    // The server may leave STREAM out, or CTX and STREAM (it does not speak them, or has them off), nothing else.
    (hello.flags !== offered.flags &&
      hello.flags !== (offered.flags & ~FLAG_STREAM) &&
      hello.flags !== (offered.flags & ~(FLAG_CTX | FLAG_STREAM))) ||
    hello.codec !== offered.codec ||
    hello.keyId !== offered.keyId
  ) {
    throw badHandshake('the server hello does not match what was offered');
  }
  const callContext = (hello.flags & FLAG_CTX) !== 0 ? ('client' as const) : undefined;
  const hasStreams = (hello.flags & FLAG_STREAM) !== 0;
  if (suite === suites.none) {
    const session = {
      suite,
      codec,
      keyId,
      hasForwardSecrecy: false,
      callContext,
      hasStreams,
      sealer: createSealer(suite, undefined, undefined),
      opener: createOpener(suite, undefined, undefined),
    };
    return new Connection(socket, session, limits, options.logger ?? silentLogger, reader.detach());
  }
  const shared = ephemeral ? agree(ephemeral, hello.eph) : undefined;
  if (ephemeral && shared === undefined) throw badHandshake('the server sent an unusable X25519 key');
  const th = transcriptHash(clientHello, serverHello);
  const keys = deriveKeys({ psk: options.psk!, shared, clientRandom: offered.random, serverRandom: hello.random, th });
  if (!isSameTag(serverHello.subarray(HELLO_BYTES, HELLO_BYTES + CONFIRM_BYTES), serverConfirm(keys, th))) {
    throw new ProtocolError('GAW_ERR_AUTH_FAILED', 'authentication failed: the secret is probably wrong');
  }
  socket.write(clientConfirm(keys, th));
  const session = {
    suite,
    codec,
    keyId,
    hasForwardSecrecy,
    callContext,
    hasStreams,
    sealer: createSealer(suite, keys.c2sEnc, keys.c2sMac),
    opener: createOpener(suite, keys.s2cEnc, keys.s2cMac),
  };
  return new Connection(socket, session, limits, options.logger ?? silentLogger, reader.detach());
}

function badHandshake(message: string): ProtocolError {
  return new ProtocolError('GAW_ERR_BAD_HANDSHAKE', message);
}
