// Reads exact byte counts from a socket during the handshake, before a Connection takes it over.
// Whatever arrives past the handshake is kept and handed to the Connection.
import type { Socket } from 'node:net';
import { ConnectionError } from '../errors.js';

const MAX_EARLY_BYTES = 64 * 1024;

export class HandshakeReader {
  readonly #socket: Socket;
  #buffered: Buffer = Buffer.alloc(0);
  #want = 0;
  #resolve: ((bytes: Buffer) => void) | undefined;
  #reject: ((err: Error) => void) | undefined;
  #error: Error | undefined;
  readonly #onData = (chunk: Buffer) => {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    // A handshake needs at most 105 bytes; a peer racing ahead is held back, not buffered without end.
    if (this.#buffered.length > MAX_EARLY_BYTES) this.#socket.pause();
    this.#settle();
  };
  readonly #onEnd = () =>
    this.#stop(
      new ConnectionError('GAW_ERR_CONN_CLOSED', 'the peer closed the connection during the handshake', {
        mayHaveReachedServer: false,
      }),
    );
  readonly #onError = (err: Error) =>
    this.#stop(
      new ConnectionError('GAW_ERR_CONN_CLOSED', `the connection failed during the handshake: ${err.message}`, {
        cause: err,
        mayHaveReachedServer: false,
      }),
    );

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
    socket.on('error', this.#onError);
  }

  /** Resolves with exactly `n` bytes (n is small: at most a hello). */
  read(n: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#want = n;
      this.#resolve = resolve;
      this.#reject = reject;
      // Bytes that arrived before the peer closed are still served (a reject followed by FIN).
      this.#settle();
      if (this.#resolve !== undefined && this.#error) this.#stop(this.#error);
    });
  }

  /** Bytes already received: the caller may look before deciding how much to read. */
  get buffered(): Buffer {
    return this.#buffered;
  }

  /** Stops listening, pauses the socket and returns the bytes that arrived past the handshake. */
  detach(): Buffer {
    this.#socket.pause();
    this.#socket.off('data', this.#onData);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('close', this.#onEnd);
    this.#socket.off('error', this.#onError);
    const rest = this.#buffered;
    this.#buffered = Buffer.alloc(0);
    return rest;
  }

  #settle(): void {
    if (this.#resolve === undefined || this.#buffered.length < this.#want) return;
    const bytes = this.#buffered.subarray(0, this.#want);
    this.#buffered = this.#buffered.subarray(this.#want);
    const resolve = this.#resolve;
    this.#resolve = this.#reject = undefined;
    resolve(Buffer.from(bytes));
  }

  #stop(err: Error): void {
    this.#error ??= err;
    const reject = this.#reject;
    this.#resolve = this.#reject = undefined;
    reject?.(this.#error);
  }
}
