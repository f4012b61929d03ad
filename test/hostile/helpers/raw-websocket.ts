// A WebSocket client on a raw TCP socket, for peers that misbehave on purpose: it does the
// opening handshake by hand, writes frames of any opcode, length, mask or payload (or plain
// garbage), can stop reading, never answers pings by itself, and reads the server's frames so a
// test can see the close code. It never throws on a reset.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { track } from '../../helpers/cleanup.js';

export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

export const opcodes = { text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export class RawWebSocket {
  readonly socket: Socket;
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<void>;
  #buffer = Buffer.alloc(0);
  #isHandshaken = false;
  #onFrame: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    const untrack = track(() => socket.destroy());
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.once('close', untrack);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
  }

  /** Connects and upgrades /api; resolves once the 101 arrived (rejects with the status line otherwise). */
  static async open(port: number, headers: Record<string, string> = {}): Promise<RawWebSocket> {
    const socket = connect(port, '127.0.0.1');
    const raw = new RawWebSocket(socket);
    const lines = [
      'GET /api HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    ];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        const end = raw.#buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = raw.#buffer.subarray(0, end).toString('latin1');
        socket.off('data', check);
        if (!head.startsWith('HTTP/1.1 101')) reject(new Error(head.split('\r\n')[0]));
        raw.#buffer = raw.#buffer.subarray(end + 4);
        raw.#isHandshaken = true;
        raw.#parse();
        resolve();
      };
      socket.on('data', check);
      socket.once('close', () => reject(new Error('closed before the handshake')));
    });
    return raw;
  }

  /** One frame: masked unless told otherwise, with the length field it claims (default: the payload's). */
  frame(opcode: number, payload: Buffer | string, options: { isMasked?: boolean; claimedBytes?: number } = {}): Buffer {
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const length = options.claimedBytes ?? body.length;
    const isMasked = options.isMasked ?? true;
    const head: number[] = [0x80 | opcode];
    const maskBit = isMasked ? 0x80 : 0;
    if (length < 126) head.push(maskBit | length);
    else if (length < 65536) head.push(maskBit | 126, length >> 8, length & 0xff);
    else {
      head.push(maskBit | 127, 0, 0, 0, 0);
      head.push((length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
    }
    if (!isMasked) return Buffer.concat([Buffer.from(head), body]);
    const mask = randomBytes(4);
    const masked = Buffer.from(body);
    for (let i = 0; i < masked.length; i++) masked[i] = masked[i]! ^ mask[i & 3]!;
    return Buffer.concat([Buffer.from(head), mask, masked]);
  }

  sendText(text: string): boolean {
    return this.socket.write(this.frame(opcodes.text, text));
  }

  write(bytes: Buffer): boolean {
    return this.socket.write(bytes);
  }

  /** Stops reading: the server's output backs up in its buffers. */
  stopReading(): void {
    this.socket.pause();
  }

  /** The close code of the server's close frame, once one arrived (undefined if the socket closed without one). */
  async closeCode(): Promise<number | undefined> {
    await this.closed;
    const close = this.frames.find((f) => f.opcode === opcodes.close);
    return close === undefined || close.payload.length < 2 ? undefined : close.payload.readUInt16BE(0);
  }

  /** Resolves once `count` text frames arrived. */
  async texts(count: number): Promise<string[]> {
    const texts = () => this.frames.filter((f) => f.opcode === opcodes.text);
    while (texts().length < count) await new Promise<void>((resolve) => (this.#onFrame = resolve));
    return texts().map((f) => f.payload.toString());
  }

  #receive(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    if (this.#isHandshaken) this.#parse();
  }

  #parse(): void {
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) return;
      let length = b[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      if (b.length < offset + length) return;
      this.frames.push({ opcode: b[0]! & 0x0f, payload: b.subarray(offset, offset + length) });
      this.#buffer = b.subarray(offset + length);
      const wake = this.#onFrame;
      this.#onFrame = undefined;
      wake?.();
    }
  }
}
