// A TCP proxy on 127.0.0.1 port 0 standing between a client and a server: an active network
// attacker (it may rewrite the bytes of each direction as they pass) and a bad network (it can cut
// every connection at once with a reset, or become a black hole that swallows bytes without FIN or
// RST, as a partition or a dead host does). Knows nothing of GAWP; tests give it byte edits.
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

/** Edits a chunk in flight; `offset` is where the chunk starts in its direction's byte stream. */
export type Rewrite = (chunk: Buffer, offset: number) => Buffer;

export interface ProxyOptions {
  toServer?: Rewrite;
  toClient?: Rewrite;
}

export class TcpProxy {
  readonly #server: Server;
  readonly #targetPort: number;
  readonly #options: ProxyOptions;
  readonly #pairs = new Set<[Socket, Socket]>();
  /** Connections accepted over the proxy's life. */
  accepted = 0;
  /** Connections whose bytes are swallowed both ways while their sockets stay open. */
  readonly #blackHoles = new WeakSet<Socket>();

  private constructor(targetPort: number, options: ProxyOptions) {
    this.#targetPort = targetPort;
    this.#options = options;
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(targetPort: number, options: ProxyOptions = {}): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort, options);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', () => resolve()));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get openCount(): number {
    return this.#pairs.size;
  }

  /**
   * Every connection open now becomes a black hole: bytes both ways are swallowed, no FIN, no RST,
   * as when a host dies or a path is partitioned. Connections made later pass normally.
   */
  blackHoleAll(): void {
    for (const [client] of this.#pairs) this.#blackHoles.add(client);
  }

  /** Resets both sides of every connection now: no FIN, no CLOSE, as when a network path dies. */
  cutAll(): void {
    for (const [client, upstream] of this.#pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.#pairs.clear();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.accepted++;
    const upstream = connect({ host: '127.0.0.1', port: this.#targetPort });
    const pair: [Socket, Socket] = [client, upstream];
    this.#pairs.add(pair);
    const drop = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    const isBlackHole = () => this.#blackHoles.has(client);
    pipe(client, upstream, this.#options.toServer, isBlackHole);
    pipe(upstream, client, this.#options.toClient, isBlackHole);
  }
}

function pipe(from: Socket, to: Socket, rewrite: Rewrite | undefined, isBlackHole: () => boolean): void {
  let offset = 0;
  from.on('data', (chunk: Buffer) => {
    if (isBlackHole()) return;
    const out = rewrite ? rewrite(Buffer.from(chunk), offset) : chunk;
    offset += chunk.length;
    if (!to.destroyed && !to.write(out)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.on('end', () => {
    if (!isBlackHole()) to.end();
  });
}

/** A rewrite that sets byte `index` of the direction's stream to `value` when it passes. */
export function setByte(index: number, value: number): Rewrite {
  return setBytes(index, Buffer.from([value]));
}

/** A rewrite that overwrites the direction's stream from byte `index` with `bytes`. */
export function setBytes(index: number, bytes: Buffer): Rewrite {
  return (chunk, offset) => {
    for (let i = 0; i < bytes.length; i++) {
      const at = index + i - offset;
      if (at >= 0 && at < chunk.length) chunk[at] = bytes[i]!;
    }
    return chunk;
  };
}

/** Several rewrites applied in order. */
export function rewrites(...all: Rewrite[]): Rewrite {
  return (chunk, offset) => all.reduce((c, rewrite) => rewrite(c, offset), chunk);
}
