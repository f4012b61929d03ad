// Streams a given number of bytes in items of a given size from a child-process server (suite cbc,
// msgpack) and reports how far each side's resident set grew: the stream tests' memory bound, and
// scripts/soak-streams.js's 1 GiB run. Measures; asserts nothing (the callers do).
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { GawClient } from '../../src/client/index.js';
import type { Remote } from '../../src/client/index.js';
import { forkListening } from '../helpers/server-fixtures.js';
import type { ForkedServer } from '../helpers/server-fixtures.js';
import type { BulkService } from './bulk-server.js';

export interface BulkResult {
  bytes: number;
  items: number;
  seconds: number;
  /** Peak resident set during the stream minus the resident set just before it. */
  serverGrowthBytes: number;
  clientGrowthBytes: number;
}

export async function startBulkServer(): Promise<{ server: ForkedServer; secret: string }> {
  const secret = randomBytes(32).toString('base64');
  const script = fileURLToPath(new URL('./bulk-server.js', import.meta.url));
  const server = await forkListening(script, ['--bulk-server', secret]);
  return { server, secret };
}

export function bulkClient(port: number, secret: string, options: { poolSize?: number } = {}): GawClient {
  return new GawClient({ port, secret, encrypt: true, codec: 'msgpack', timeoutMs: 600_000, ...options });
}

/** Streams `totalBytes` in `itemBytes` items, after a warm-up of a few MiB that the baselines follow. */
export async function streamBulk(totalBytes: number, itemBytes: number): Promise<BulkResult> {
  const { server, secret } = await startBulkServer();
  const client = bulkClient(server.port, secret, { poolSize: 1 });
  try {
    const bulk: Remote<BulkService> = client.service<BulkService>('bulk');
    for await (const _ of bulk.bytes(8 * 1024 * 1024, itemBytes));
    (globalThis as { gc?: () => void }).gc?.();
    const serverBefore = (await bulk.memory(true)).rssBytes;
    const clientBefore = process.memoryUsage().rss;
    let clientPeak = clientBefore;
    let bytes = 0;
    let items = 0;
    const started = performance.now();
    for await (const item of bulk.bytes(totalBytes, itemBytes)) {
      bytes += item.length;
      if (++items % 256 === 0) clientPeak = Math.max(clientPeak, process.memoryUsage().rss);
    }
    const seconds = (performance.now() - started) / 1000;
    clientPeak = Math.max(clientPeak, process.memoryUsage().rss);
    const serverPeak = (await bulk.memory()).peakRssBytes;
    return {
      bytes,
      items,
      seconds,
      serverGrowthBytes: serverPeak - serverBefore,
      clientGrowthBytes: clientPeak - clientBefore,
    };
  } finally {
    await client.close();
    await server.kill();
  }
}
