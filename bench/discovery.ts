// Discovery (issue 17): the time from a SIGKILL of a registered server to the last of several
// clients leaving it out of its view, over repeated kills. Servers are child processes on
// 127.0.0.2-4 registered on a redis-server over a unix socket (test timings: ttl 1 000 ms,
// heartbeat 300 ms, so the bound is ttl + 1.1 x heartbeat = 1 330 ms); each client is a GawClient
// with its own registry connections, watching the name. Skipped when redis-server is missing.
import { GawClient } from '../src/index.js';
import type { WatchEvent } from '../src/index.js';
import { redisEngine, startRedis } from '../test/helpers/redis-server.js';
import { ChildServer, makeSecret } from '../test/helpers/server-fixtures.js';
import { quantile } from './harness.js';

const timings = { ttlMs: 1000, heartbeatMs: 300, commandTimeoutMs: 500, resyncMs: 1000, discoveryTimeoutMs: 2000 };

async function poll(check: () => boolean, deadlineMs: number): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > deadlineMs) throw new Error('discovery bench: timed out');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export async function runDiscoveryBench(options: { kills?: number; clients?: number } = {}): Promise<string> {
  if (redisEngine.engine === undefined) return `skipped: ${redisEngine.skip}`;
  const kills = options.kills ?? 10;
  const clientCount = options.clients ?? 4;
  const redis = await startRedis();
  const secret = makeSecret();
  const start = (i: number) =>
    ChildServer.start(`s${i}`, { host: `127.0.0.${2 + (i % 3)}`, secret, discovery: { url: redis.url, ...timings } });
  const servers: ChildServer[] = [];
  const clients: GawClient[] = [];
  try {
    for (let i = 0; i < 3; i++) servers.push(await start(i));
    const downs = new Map<number, number[]>();
    for (let c = 0; c < clientCount; c++) {
      const client = new GawClient({ secret, discovery: { url: redis.url, ...timings } });
      clients.push(client);
      client.watch('label', (event: WatchEvent) => {
        if (event.type !== 'down') return;
        const seen = downs.get(event.instance.port) ?? [];
        seen.push(performance.now());
        downs.set(event.instance.port, seen);
      });
      await client.call('label.whoami');
    }
    const samplesMs: number[] = [];
    for (let k = 0; k < kills; k++) {
      const victim = servers.shift() as ChildServer;
      const killedAt = performance.now();
      await victim.kill();
      await poll(() => (downs.get(victim.port)?.length ?? 0) >= clientCount, 10_000);
      samplesMs.push(Math.max(...(downs.get(victim.port) as number[])) - killedAt);
      servers.push(await start(k + 3));
      for (const client of clients) await client.call('label.whoami');
    }
    samplesMs.sort((a, b) => a - b);
    const p50 = quantile(samplesMs, 0.5);
    const p99 = quantile(samplesMs, 0.99);
    const bound = timings.ttlMs + 1.1 * timings.heartbeatMs;
    return [
      `${kills} SIGKILLs of one of 3 registered servers (child processes), ${clientCount} clients watching; ttl ${timings.ttlMs} ms, heartbeat ${timings.heartbeatMs} ms (production defaults 10 000 / 3 000 scale the same way); with ${kills} kills p99 is the slowest one.`,
      '',
      '| measure | p50 | p99 | min | max | bound |',
      '|---|---|---|---|---|---|',
      `| SIGKILL to the last client's view without the instance | ${p50.toFixed(0)} ms | ${p99.toFixed(0)} ms | ${samplesMs[0]!.toFixed(0)} ms | ${samplesMs.at(-1)!.toFixed(0)} ms | ${bound.toFixed(0)} ms (ttl + 1.1 x heartbeat) |`,
    ].join('\n');
  } finally {
    for (const client of clients) client.destroy();
    await Promise.all(servers.map((s) => s.kill()));
    await redis.stop();
  }
}
