// A GawServer in a child process for the stream tests that need one apart from the client: to
// measure each side's memory on its own, and to SIGKILL the server mid-stream. Serves BulkService
// on cbc (msgpack accepted) and sends { port } over IPC once it listens.
import { GawServer, entrypoint } from '../../src/server/index.js';
import { callContext } from '../../src/context.js';

let peakRssBytes = 0;
const sampler = setInterval(() => {
  peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss);
}, 10);
sampler.unref();

export class BulkService {
  static serviceName = 'bulk';

  /** `totalBytes` in items of `itemBytes` (the same bytes each time: the producer holds one item). */
  @entrypoint
  async *bytes(totalBytes: number, itemBytes: number): AsyncGenerator<Buffer, number> {
    const item = Buffer.alloc(itemBytes, 0x5a);
    let sent = 0;
    while (sent < totalBytes) {
      yield item;
      sent += itemBytes;
    }
    return sent;
  }

  /** Items until the caller goes away (SIGKILL and concurrency tests). */
  @entrypoint
  async *endless(itemBytes: number): AsyncGenerator<Buffer> {
    const item = Buffer.alloc(itemBytes, 0x33);
    for (;;) yield item;
  }

  /** Small items, each after a timer turn: a stream that is in flight for a while. */
  @entrypoint
  async *ticks(count: number): AsyncGenerator<number> {
    for (let i = 0; i < count; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (callContext()?.signal.aborted) return;
      yield i;
    }
  }

  /** The resident set now and its peak since the last reset (sampled every 10 ms). */
  @entrypoint
  memory(reset = false): { rssBytes: number; peakRssBytes: number } {
    const rssBytes = process.memoryUsage().rss;
    peakRssBytes = Math.max(peakRssBytes, rssBytes);
    const answer = { rssBytes, peakRssBytes };
    if (reset) peakRssBytes = rssBytes;
    return answer;
  }

  @entrypoint
  echo(value: unknown): unknown {
    return value;
  }
}

if (process.argv[2] === '--bulk-server' && process.send) {
  const server = new GawServer({
    host: '127.0.0.1',
    port: 0,
    secret: process.argv[3],
    encrypt: true,
    maxInFlight: 512,
  }).add(BulkService);
  await server.listen();
  process.send({ port: server.address.port });
  process.on('disconnect', () => process.exit(0));
}
