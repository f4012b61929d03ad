// One TCP connection from the legacy client to a Python Gaw 0.7 server: connect with a timeout,
// then exchanges of one request frame for one reply frame body, strictly in turn. Knows framing,
// not sealing or envelopes (client.ts's). Anything unexpected from the server destroys it.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { ConnectionError, ProtocolError, TimeoutError } from '../errors.js';
import { LegacyFrameDecoder } from './frame.js';
import type { FrameBounds } from './frame.js';

interface Pending {
  resolve: (body: Buffer) => void;
  reject: (err: Error) => void;
}

export class LegacyClientConnection {
  readonly #socket: Socket;
  readonly #decoder: LegacyFrameDecoder;
  #pending: Pending | undefined;
  #isClosed = false;
  /** Called once when the connection closes, for whatever reason. */
  onClose: (() => void) | undefined;

  private constructor(socket: Socket, bounds: FrameBounds) {
    this.#socket = socket;
    this.#decoder = new LegacyFrameDecoder(bounds);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () =>
      this.destroy(
        new ConnectionError('GAW_ERR_CONN_CLOSED', 'the legacy server closed the connection before replying'),
      ),
    );
    socket.on('error', (err) =>
      this.destroy(
        new ConnectionError('GAW_ERR_CONN_CLOSED', `the legacy connection failed: ${err.message}`, { cause: err }),
      ),
    );
    socket.on('close', () =>
      this.destroy(new ConnectionError('GAW_ERR_CONN_CLOSED', 'the legacy connection closed before the reply')),
    );
  }

  /** Opens a connection; rejects with ConnectionError (refused, failed) or TimeoutError. */
  static open(host: string, port: number, bounds: FrameBounds, timeoutMs: number): Promise<LegacyClientConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true, keepAlive: true, allowHalfOpen: false });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new TimeoutError(
            'GAW_ERR_CONNECT_TIMEOUT',
            `connecting to legacy server ${host}:${port} took over ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const code = err.code === 'ECONNREFUSED' ? 'GAW_ERR_CONN_REFUSED' : 'GAW_ERR_CONN_CLOSED';
        reject(
          new ConnectionError(code, `cannot connect to legacy server ${host}:${port}: ${err.message}`, {
            cause: err,
            mayHaveReachedServer: false,
          }),
        );
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new LegacyClientConnection(socket, bounds));
      });
    });
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Writes one request frame and resolves with the reply's frame body. One exchange at a time. */
  exchange(frame: Buffer): Promise<Buffer> {
    if (this.#isClosed) {
      return Promise.reject(
        new ConnectionError('GAW_ERR_CONN_CLOSED', 'the legacy connection is closed', { mayHaveReachedServer: false }),
      );
    }
    if (this.#pending !== undefined)
      throw new Error('LegacyClientConnection.exchange called while an exchange is in progress');
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#socket.write(frame);
    });
  }

  destroy(err?: Error): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#socket.destroy();
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(err ?? new ConnectionError('GAW_ERR_CONN_CLOSED', 'the legacy connection was closed'));
    this.onClose?.();
  }

  #onData(chunk: Buffer): void {
    try {
      this.#decoder.push(chunk, (body) => {
        const pending = this.#pending;
        if (pending === undefined)
          throw new ProtocolError('GAW_ERR_BAD_RESPONSE', 'the legacy server sent a frame nobody asked for');
        this.#pending = undefined;
        pending.resolve(body);
      });
    } catch (err) {
      this.destroy(
        err instanceof Error ? err : new ProtocolError('GAW_ERR_BAD_FRAME', 'bad frame from the legacy server'),
      );
    }
  }
}
