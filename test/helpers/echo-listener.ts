// A real postoffice Listener whose owner echoes every message back, with what it saw recorded:
// authenticated connections, delivered messages, how each connection closed, handshake failures.
// Hostile tests aim misbehaving peers at it, then check that nothing was delivered and that an
// honest client (checkServes) still gets its echo. Nothing here speaks GAWP by hand: rawClientOf
// only drives gawp-peer.ts's GawpClient.
import { EventEmitter, once } from 'node:events';
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { Listener, KeyRing, dial, parseSecret } from '../../src/postoffice/index.js';
import type { AuthFailure, Connection, DialOptions, ListenerOptions, SuiteName } from '../../src/postoffice/index.js';
import type { GawError } from '../../src/errors.js';
import { track } from './cleanup.js';
import { GawpClient } from './gawp-peer.js';
import type { HelloOffer } from './gawp-peer.js';

export interface EchoEvents {
  /** A server-side connection closed; `err` as its close event gave it. */
  closed: [err: GawError | undefined, connection: Connection];
  connection: [connection: Connection];
  authFailure: [failure: AuthFailure];
  /** A message reached the owner. */
  delivered: [message: string, connection: Connection];
}

export interface EchoListener {
  listener: Listener;
  port: number;
  /** The base64 secret (key id 0) and its bytes, when the suite needs one. */
  secret: string;
  psk: Buffer;
  suite: SuiteName;
  /** Whether the owner echoes messages back. */
  isEchoing: boolean;
  /** Every message delivered to the owner, as UTF-8, across all connections. */
  delivered: string[];
  connections: Connection[];
  authFailures: AuthFailure[];
  /** Close errors of server-side connections, in the order they closed. */
  closeErrors: (GawError | undefined)[];
  events: EventEmitter<EchoEvents>;
  /** Destroys every connection and stops the listener. */
  close(): Promise<void>;
}

export function makeSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64');
}

/**
 * Starts a Listener on 127.0.0.1 port 0 accepting `suite` (default sign) with a fresh secret;
 * every other ListenerOptions field may be given. `echo: false` delivers without replying.
 */
export async function startEchoListener(
  options: Partial<ListenerOptions> & { suite?: SuiteName; secret?: string; echo?: boolean } = {},
): Promise<EchoListener> {
  const suite = options.suite ?? 'sign';
  const secret = options.secret ?? makeSecret();
  const events = new EventEmitter<EchoEvents>();
  const listener = new Listener({
    suites: [suite],
    keyRing: suite === 'none' ? undefined : new KeyRing(secret),
    handshakeTimeoutMs: 5_000,
    ...options,
  });
  const echo: EchoListener = {
    listener,
    port: 0,
    secret,
    psk: parseSecret(secret),
    suite,
    isEchoing: options.echo !== false,
    delivered: [],
    connections: [],
    authFailures: [],
    closeErrors: [],
    events,
    async close() {
      untrack();
      for (const connection of echo.connections) connection.destroy();
      await listener.close();
    },
  };
  const untrack = track(() => echo.close());
  listener.on('connection', (connection) => {
    echo.connections.push(connection);
    connection.on('message', (message) => {
      const text = message.toString('utf8');
      echo.delivered.push(text);
      if (echo.isEchoing && !connection.isClosed) connection.send(Buffer.from(message));
      events.emit('delivered', text, connection);
    });
    connection.on('close', (err) => {
      echo.closeErrors.push(err);
      events.emit('closed', err, connection);
    });
    events.emit('connection', connection);
  });
  listener.on('authFailure', (failure) => {
    echo.authFailures.push(failure);
    events.emit('authFailure', failure);
  });
  echo.port = (await listener.listen()).port;
  return echo;
}

/** Dial options for an honest client of `echo` (its suite, secret and port). */
export function honestOptions(echo: EchoListener, overrides: Partial<DialOptions> = {}): DialOptions {
  return {
    host: '127.0.0.1',
    port: echo.port,
    suite: echo.suite,
    psk: echo.suite === 'none' ? undefined : echo.psk,
    ...overrides,
  };
}

/** Resolves with the next message a connection emits, as UTF-8; rejects if it closes first. */
export function nextMessage(connection: Connection): Promise<string> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: Buffer) => {
      connection.off('close', onClose);
      resolve(message.toString('utf8'));
    };
    const onClose = (err: GawError | undefined) => {
      connection.off('message', onMessage);
      reject(err ?? new Error('the connection closed before a message arrived'));
    };
    connection.once('message', onMessage);
    connection.once('close', onClose);
  });
}

/** Resolves with the error (or undefined) a connection closes with. */
export async function closeOf(connection: Connection): Promise<GawError | undefined> {
  if (connection.isClosed) throw new Error('the connection is already closed');
  const [err] = (await once(connection, 'close')) as [GawError | undefined];
  return err;
}

/**
 * Dials an honest client and waits until the listener has handed the server side to its owner
 * too (dial resolves once the ClientFinish is written, before the server has read it).
 */
export async function dialAccepted(
  echo: EchoListener,
  overrides: Partial<DialOptions> = {},
): Promise<{ client: Connection; server: Connection }> {
  const accepted = once(echo.events, 'connection') as Promise<[Connection]>;
  const client = await dial(honestOptions(echo, overrides));
  const [server] = await accepted;
  return { client, server };
}

/** A hand-played client with a finished handshake (echo's suite and secret), and the server side of its connection. */
export async function rawClientOf(
  echo: EchoListener,
  offer: Omit<HelloOffer, 'suite'> = {},
): Promise<{ client: GawpClient; server: Connection }> {
  const accepted = once(echo.events, 'connection') as Promise<[Connection]>;
  const client = await GawpClient.handshake(echo.port, echo.psk, { ...offer, suite: echo.suite });
  const [server] = await accepted;
  return { client, server };
}

/**
 * An honest client dials, its message reaches the owner (and comes back, when the listener
 * echoes), and it closes: the listener still serves.
 */
export async function checkServes(echo: EchoListener, overrides: Partial<DialOptions> = {}): Promise<void> {
  const connection = await dial(honestOptions(echo, overrides));
  try {
    const text = `still serving ${randomBytes(4).toString('hex')}`;
    const delivered = new Promise<void>((resolve) => {
      const onDelivered = (message: string) => {
        if (message !== text) return;
        echo.events.off('delivered', onDelivered);
        resolve();
      };
      echo.events.on('delivered', onDelivered);
    });
    const reply = echo.isEchoing ? nextMessage(connection) : undefined;
    connection.send(Buffer.from(text));
    await delivered;
    if (reply) assert.equal(await reply, text);
  } finally {
    connection.destroy();
  }
}
