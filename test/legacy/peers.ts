// Real peers for the legacy tests: a raw socket that sends whatever bytes a test chooses, and a
// stand-in for Python Gaw 0.7's server written from its source (its own framing and node:crypto
// sealing, independent of src/legacy), plus the transcript's math_service for our listener.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { once } from 'node:events';
import { Registry } from '../../src/serializable/index.js';

/** A client socket that records every byte it receives and when it closes. */
export class RawPeer {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  readonly closed: Promise<Buffer>;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        for (const wake of this.#waiters.splice(0)) wake();
        resolve(this.received);
      }),
    );
  }

  static async open(port: number): Promise<RawPeer> {
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    return new RawPeer(socket);
  }

  write(bytes: Buffer | string): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Resolves with the first whole `length\n body` frame received (and removes it), or rejects on close. */
  async readFrame(): Promise<Buffer> {
    for (;;) {
      const newline = this.received.indexOf(0x0a);
      if (newline > 0) {
        const length = Number(this.received.subarray(0, newline).toString('ascii'));
        if (this.received.length >= newline + 1 + length) {
          const frame = this.received.subarray(0, newline + 1 + length);
          this.received = this.received.subarray(newline + 1 + length);
          return frame;
        }
      }
      if (this.socket.closed) throw new Error(`the connection closed; received ${this.received.length} bytes`);
      await new Promise<void>((wake) => this.#waiters.push(wake));
    }
  }
}

export type PythonMode = 'plain' | 'sign' | 'encrypt';

/** Python Gaw 0.7's postoffice.core seal: HMAC-SHA256 | json, optionally AES-CBC with a random IV. */
export function pythonSeal(mode: PythonMode, key: Buffer | undefined, json: Buffer): Buffer {
  if (mode === 'plain' || key === undefined) return json;
  const signed = Buffer.concat([createHmac('sha256', key).update(json).digest(), json]);
  if (mode === 'sign') return signed;
  const iv = randomBytes(16);
  const cipher = createCipheriv(`aes-${key.length * 8}-cbc`, key, iv);
  return Buffer.concat([iv, cipher.update(signed), cipher.final()]);
}

/** Python Gaw 0.7's postoffice.core open (without its lax padding handling: these are tests). */
export function pythonOpen(mode: PythonMode, key: Buffer | undefined, body: Buffer): Buffer {
  if (mode === 'plain' || key === undefined) return body;
  let signed = body;
  if (mode === 'encrypt') {
    const decipher = createDecipheriv(`aes-${key.length * 8}-cbc`, key, body.subarray(0, 16));
    signed = Buffer.concat([decipher.update(body.subarray(16)), decipher.final()]);
  }
  const json = signed.subarray(32);
  if (!createHmac('sha256', key).update(json).digest().equals(signed.subarray(0, 32)))
    throw new Error('signature verification failed');
  return json;
}

/** What the stand-in server does with one request: reply with JSON text, send raw bytes, or hang up. */
export type PythonAction = { json: string } | { raw: Buffer } | 'close' | 'silent';

/** A stand-in for Python Gaw's threaded postoffice server: one request then one reply, in turn. */
export class FakePythonServer {
  readonly #server: Server;
  readonly requests: string[] = [];
  readonly sockets = new Set<Socket>();
  #onRequest: (() => void)[] = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(
    mode: PythonMode,
    secret: string | undefined,
    handle: (requestJson: string) => PythonAction,
  ): Promise<FakePythonServer> {
    const key = secret === undefined ? undefined : Buffer.from(secret, 'base64');
    let fake: FakePythonServer | undefined;
    const server = createServer((socket) => {
      fake!.sockets.add(socket);
      socket.once('close', () => fake!.sockets.delete(socket));
      socket.on('error', () => {});
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        for (;;) {
          const newline = buffered.indexOf(0x0a);
          if (newline < 0) return;
          const length = parseInt(buffered.subarray(0, newline).toString('ascii'), 10);
          if (buffered.length < newline + 1 + length) return;
          const body = buffered.subarray(newline + 1, newline + 1 + length);
          buffered = buffered.subarray(newline + 1 + length);
          const json = pythonOpen(mode, key, body).toString('utf8');
          fake!.requests.push(json);
          for (const wake of fake!.#onRequest.splice(0)) wake();
          const action = handle(json);
          if (action === 'close') return void socket.destroy();
          if (action === 'silent') continue;
          const out = 'raw' in action ? action.raw : pythonSeal(mode, key, Buffer.from(action.json, 'utf8'));
          // Python writes the length line and the payload with two send calls.
          socket.write(Buffer.from(`${out.length}\n`, 'ascii'));
          socket.write(out);
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    fake = new FakePythonServer(server);
    return fake;
  }

  /** Resolves once `count` requests in all have arrived. */
  async requestsReceived(count: number): Promise<void> {
    while (this.requests.length < count) await new Promise<void>((wake) => this.#onRequest.push(wake));
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** The request id's digits, read from Python-style request JSON text. */
export function requestIdOf(json: string): string {
  const match = /"id": (\d+)/.exec(json);
  if (match === null) throw new Error(`no integer id in ${json.slice(0, 80)}`);
  return match[1]!;
}

export class MathResult {
  constructor(
    public header = '',
    public result = 0,
  ) {}
}

/** The transcript's service, plus a few methods the tests need. */
export class MathService {
  static serviceName = 'math_service';
  static entrypoints = ['plus', 'multiply', 'fail', 'echo', 'repeat', 'wait'];
  /** Resolvers of calls to `wait`, in call order; `onWait` is told each time one starts. */
  static waiting: ((value: unknown) => void)[] = [];
  static onWait: (() => void) | undefined;
  hello: string;

  constructor(hello: string) {
    this.hello = hello;
  }

  plus(a: number, b: number): string {
    return `${this.hello}: ${a + b}`;
  }

  multiply(a: number, b: number): MathResult {
    return new MathResult(this.hello, a * b);
  }

  fail(message: string): never {
    throw new RangeError(message);
  }

  echo(value: unknown): unknown {
    return value;
  }

  repeat(text: string, times: number): string {
    return text.repeat(times);
  }

  wait(): Promise<unknown> {
    return new Promise((resolve) => {
      MathService.waiting.push(resolve);
      MathService.onWait?.();
    });
  }
}

/** A registry of its own (so tests do not share tags) that knows MathResult. */
export function mathRegistry(): Registry {
  const registry = new Registry();
  registry.register(MathResult, { tag: 'MathResult', fields: ['header', 'result'] });
  return registry;
}
