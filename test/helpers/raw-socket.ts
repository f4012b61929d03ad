// A plain TCP socket for tests that must misbehave on purpose: it writes exactly the bytes it is
// given (whole, or a byte at a time), reads exact byte counts, can stop reading, and records what
// it sent and received so a session can be replayed. It knows nothing of GAWP/1 (gawp-peer.ts does)
// and never throws on a reset: how the far side closed is part of what tests look at.
import { connect as netConnect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { track } from './cleanup.js';

export interface CloseInfo {
  /** The socket ended with an error (e.g. ECONNRESET) rather than a clean FIN. */
  hadError: boolean;
  /** Every byte received over the socket's life. */
  receivedBytes: number;
}

interface Waiter {
  bytes: number;
  resolve: (bytes: Buffer) => void;
  reject: (err: Error) => void;
}

export class RawSocket {
  readonly socket: Socket;
  /** Unread chunks, oldest first; `#offset` bytes of the first one are already read. */
  #unread: Buffer[] = [];
  #offset = 0;
  #unreadBytes = 0;
  #receivedBytes = 0;
  #waiter: Waiter | undefined;
  #closeInfo: CloseInfo | undefined;
  #error: Error | undefined;
  readonly #sent: Buffer[] = [];
  readonly closed: Promise<CloseInfo>;

  constructor(socket: Socket) {
    this.socket = socket;
    const untrack = track(() => socket.destroy());
    socket.once('close', untrack);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#unread.push(chunk);
      this.#unreadBytes += chunk.length;
      this.#receivedBytes += chunk.length;
      this.#settle();
    });
    socket.on('error', (err) => {
      this.#error ??= err;
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', (hadError) => {
        this.#closeInfo = { hadError: hadError || this.#error !== undefined, receivedBytes: this.#receivedBytes };
        const waiter = this.#waiter;
        this.#waiter = undefined;
        waiter?.reject(new Error(`the socket closed with ${this.#unreadBytes} of ${waiter.bytes} wanted bytes unread`));
        resolve(this.#closeInfo);
      });
    });
  }

  /**
   * Connects to 127.0.0.1 and resolves once the TCP handshake is done. `allowHalfOpen` keeps this
   * side open after the peer's FIN (a peer that lingers), instead of closing back at once.
   */
  static connect(port: number, options: { allowHalfOpen?: boolean } = {}): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: '127.0.0.1', port, allowHalfOpen: options.allowHalfOpen ?? false });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawSocket(socket));
      });
    });
  }

  get isClosed(): boolean {
    return this.#closeInfo !== undefined;
  }

  /** Bytes received so far (read or not). */
  get receivedBytes(): number {
    return this.#receivedBytes;
  }

  /** Bytes received but not yet taken by `read`. */
  get unreadBytes(): number {
    return this.#unreadBytes;
  }

  /** Everything written so far, in order: a recording to replay on another connection. */
  get sent(): Buffer {
    return Buffer.concat(this.#sent);
  }

  /** Writes the bytes as one write; resolves once they are handed to the kernel. */
  write(bytes: Buffer): Promise<void> {
    this.#sent.push(Buffer.from(bytes));
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Writes `bytes` in pieces of `pieceBytes`, each its own write, awaiting each one. */
  async writeInPieces(bytes: Buffer, pieceBytes = 1): Promise<void> {
    for (let offset = 0; offset < bytes.length; offset += pieceBytes) {
      await this.write(bytes.subarray(offset, offset + pieceBytes));
    }
  }

  /** Resolves with exactly the next `bytes` unread bytes; rejects if the socket closes first. */
  read(bytes: number): Promise<Buffer> {
    if (this.#waiter) return Promise.reject(new Error('a read is already waiting'));
    return new Promise((resolve, reject) => {
      this.#waiter = { bytes, resolve, reject };
      this.#settle();
      if (this.#waiter && this.#closeInfo) {
        this.#waiter = undefined;
        reject(new Error(`the socket is closed with ${this.#unreadBytes} of ${bytes} wanted bytes unread`));
      }
    });
  }

  /** Stops reading: the kernel's buffers fill, then the peer's writes back up. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Sends FIN after what was written. */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  #settle(): void {
    const waiter = this.#waiter;
    if (waiter === undefined || this.#unreadBytes < waiter.bytes) return;
    this.#waiter = undefined;
    const out = Buffer.allocUnsafe(waiter.bytes);
    let filled = 0;
    while (filled < waiter.bytes) {
      const head = this.#unread[0]!;
      const take = Math.min(head.length - this.#offset, waiter.bytes - filled);
      head.copy(out, filled, this.#offset, this.#offset + take);
      filled += take;
      this.#offset += take;
      if (this.#offset === head.length) {
        this.#unread.shift();
        this.#offset = 0;
      }
    }
    this.#unreadBytes -= waiter.bytes;
    waiter.resolve(out);
  }
}

/** A TCP server on 127.0.0.1 port 0 that hands each accepted socket to the test as a RawSocket. */
export class RawServer {
  readonly #server: Server;
  readonly #accepted: RawSocket[] = [];
  readonly #waiting: ((socket: RawSocket) => void)[] = [];
  readonly sockets: RawSocket[] = [];

  private constructor() {
    this.#server = createServer((socket) => {
      const raw = new RawSocket(socket);
      this.sockets.push(raw);
      const waiting = this.#waiting.shift();
      if (waiting) waiting(raw);
      else this.#accepted.push(raw);
    });
  }

  static async start(): Promise<RawServer> {
    const server = new RawServer();
    track(() => server.close());
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return server;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The next accepted socket (already accepted ones first). */
  accept(): Promise<RawSocket> {
    const ready = this.#accepted.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Destroys every accepted socket and stops listening. */
  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    if (!this.#server.listening) return Promise.resolve();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
