// A lean keep-alive HTTP/1.1 load client on raw sockets (in the spirit of autocannon): K open
// connections, one request at a time on each, responses cut by Content-Length. Lean so that the
// HTTP servers under test, not the load generator, are what runs out of CPU. JSON-RPC POST only.
import { connect } from 'node:net';
import type { Socket } from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');

interface Exchange {
  resolve(body: Buffer): void;
  reject(err: Error): void;
}

class KeepAliveSocket {
  readonly socket: Socket;
  #current: Exchange | undefined;
  #buffer: Buffer | undefined;
  #bodyBytes = -1;
  #headerBytes = 0;

  constructor(socket: Socket, onClose: (err: Error) => void) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      const err = new Error('the HTTP connection closed');
      this.#current?.reject(err);
      this.#current = undefined;
      onClose(err);
    });
  }

  send(request: Buffer, exchange: Exchange): void {
    this.#current = exchange;
    this.socket.write(request);
  }

  #receive(chunk: Buffer): void {
    this.#buffer = this.#buffer === undefined ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (this.#bodyBytes < 0) {
      const end = this.#buffer.indexOf(HEADER_END);
      if (end < 0) return;
      const head = this.#buffer.toString('latin1', 0, end);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head);
      const length = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (status === null || length === null) {
        this.#fail(new Error(`unexpected HTTP response head: ${head.slice(0, 80)}`));
        return;
      }
      if (status[1] !== '200') {
        this.#fail(new Error(`HTTP status ${status[1]}`));
        return;
      }
      this.#headerBytes = end + HEADER_END.length;
      this.#bodyBytes = Number(length[1]);
    }
    if (this.#buffer.length < this.#headerBytes + this.#bodyBytes) return;
    const body = this.#buffer.subarray(this.#headerBytes, this.#headerBytes + this.#bodyBytes);
    this.#buffer = undefined;
    this.#bodyBytes = -1;
    const exchange = this.#current;
    this.#current = undefined;
    exchange?.resolve(body);
  }

  #fail(err: Error): void {
    this.#current?.reject(err);
    this.#current = undefined;
    this.socket.destroy();
  }
}

export class HttpLoadClient {
  readonly #idle: KeepAliveSocket[] = [];
  readonly #waiting: (() => void)[] = [];
  readonly #all: KeepAliveSocket[] = [];
  readonly #head: string;

  private constructor(port: number) {
    this.#head = `POST /api HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nConnection: keep-alive\r\nContent-Length: `;
  }

  /** Opens `connections` keep-alive sockets to 127.0.0.1:port (requests go to POST /api). */
  static async open(port: number, connections: number): Promise<HttpLoadClient> {
    const client = new HttpLoadClient(port);
    await Promise.all(
      Array.from(
        { length: connections },
        () =>
          new Promise<void>((resolve, reject) => {
            const socket = connect({ host: '127.0.0.1', port }, () => {
              socket.off('error', reject);
              const conn = new KeepAliveSocket(socket, () => {
                const index = client.#idle.indexOf(conn);
                if (index >= 0) client.#idle.splice(index, 1);
              });
              client.#all.push(conn);
              client.#idle.push(conn);
              resolve();
            });
            socket.once('error', reject);
          }),
      ),
    );
    return client;
  }

  /** POSTs `body` on an idle connection (waiting for one if all are busy); resolves with the response body. */
  async post(body: string): Promise<Buffer> {
    let conn = this.#idle.pop();
    while (conn === undefined) {
      if (this.#all.every((c) => c.socket.destroyed)) throw new Error('every HTTP connection is closed');
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
      conn = this.#idle.pop();
    }
    const payload = Buffer.from(body, 'utf8');
    const request = Buffer.concat([Buffer.from(`${this.#head}${payload.length}\r\n\r\n`, 'latin1'), payload]);
    try {
      return await new Promise<Buffer>((resolve, reject) => conn.send(request, { resolve, reject }));
    } finally {
      if (!conn.socket.destroyed) this.#idle.push(conn);
      this.#waiting.shift()?.();
    }
  }

  close(): void {
    for (const conn of this.#all) conn.socket.destroy();
  }
}
