// The "limit": JSON-RPC over a bare net socket with a 4-byte length prefix and nothing else (no
// handshake, no crypto, no framework), written as well as we know how: replies to one chunk leave
// in one write, requests of one tick in one write. Both ends live here; gaw is measured against it.
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { answer } from './workload.js';

/** Calls `onMessage` for every length-prefixed message in the stream, across chunk borders. */
function reader(onMessage: (text: string) => void): (chunk: Buffer) => void {
  let rest: Buffer | undefined;
  return (chunk) => {
    const buf = rest === undefined ? chunk : Buffer.concat([rest, chunk]);
    let offset = 0;
    while (buf.length - offset >= 4) {
      const size = buf.readUInt32BE(offset);
      if (buf.length - offset - 4 < size) break;
      onMessage(buf.toString('utf8', offset + 4, offset + 4 + size));
      offset += 4 + size;
    }
    rest = offset < buf.length ? buf.subarray(offset) : undefined;
  };
}

/** Length-prefixes each message and joins them into one buffer for one write. */
function pack(messages: string[]): Buffer {
  const bodies = messages.map((m) => Buffer.from(m, 'utf8'));
  let size = 0;
  for (const b of bodies) size += 4 + b.length;
  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const b of bodies) {
    out.writeUInt32BE(b.length, offset);
    b.copy(out, offset + 4);
    offset += 4 + b.length;
  }
  return out;
}

export function createLimitServer(): Server {
  return createServer((socket) => {
    socket.setNoDelay(true);
    let replies: string[] = [];
    const onMessage = (text: string) => {
      replies.push(JSON.stringify(answer(JSON.parse(text) as object)));
    };
    const read = reader(onMessage);
    socket.on('data', (chunk: Buffer) => {
      read(chunk);
      if (replies.length > 0) {
        socket.write(pack(replies));
        replies = [];
      }
    });
    socket.on('error', () => socket.destroy());
  });
}

/** The limit's client: many calls in flight on one socket, matched back by id. */
export class LimitClient {
  readonly #socket: Socket;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  #queue: string[] = [];
  #nextId = 1;
  readonly #flush = () => {
    this.#socket.write(pack(this.#queue));
    this.#queue = [];
  };

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on(
      'data',
      reader((text) => {
        const reply = JSON.parse(text) as { id: number; result?: unknown; error?: { message: string } };
        const pending = this.#pending.get(reply.id);
        if (pending === undefined) return;
        this.#pending.delete(reply.id);
        if (reply.error !== undefined) pending.reject(new Error(reply.error.message));
        else pending.resolve(reply.result);
      }),
    );
    socket.on('close', () => {
      for (const p of this.#pending.values()) p.reject(new Error('the limit connection closed'));
      this.#pending.clear();
    });
  }

  static open(port: number): Promise<LimitClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.off('error', reject);
        resolve(new LimitClient(socket));
      });
      socket.once('error', reject);
    });
  }

  call(method: string, params: unknown[]): Promise<unknown> {
    const id = this.#nextId++;
    if (this.#queue.length === 0) process.nextTick(this.#flush);
    this.#queue.push(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }));
  }

  close(): void {
    this.#socket.destroy();
  }
}
