// The server of bench/streams.ts, in a child process so the client and the server each get a core:
// one GawServer (suite cbc, msgpack accepted) with a stream of 64 KiB items, the same bytes as one
// unary call each, and an echo for latency. Sends { port } over IPC once it listens.
import { GawServer, entrypoint } from '../src/server/index.js';

export class StreamBench {
  static serviceName = 'sbench';

  /** `count` items of `itemBytes` (the same buffer each time: the producer holds one item). */
  @entrypoint
  async *items(count: number, itemBytes: number): AsyncGenerator<Buffer, number> {
    const item = Buffer.alloc(itemBytes, 0x5a);
    for (let i = 0; i < count; i++) yield item;
    return count;
  }

  /** One item's bytes as a unary result. */
  @entrypoint
  chunk(itemBytes: number): Buffer {
    return Buffer.alloc(itemBytes, 0x5a);
  }

  @entrypoint
  echo(value: unknown): unknown {
    return value;
  }
}

if (process.argv[2] === '--stream-bench-server' && process.send) {
  const server = new GawServer({ host: '127.0.0.1', port: 0, secret: process.argv[3], encrypt: true }).add(StreamBench);
  await server.listen();
  process.send({ port: server.address.port });
  process.on('disconnect', () => process.exit(0));
}
