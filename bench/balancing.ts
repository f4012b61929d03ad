// How the client shares calls between instances (the #16 goals): four servers on 127.0.0.1-4,
// one client balancing every call by power of two choices; one run with a server whose handler
// is ten times slower (1 ms vs 10 ms of waiting), one with four equal ones. Counts, not timings:
// each server counts the calls it ran, so a loaded machine changes little. In-process.
import { GawClient, GawServer, entrypoint } from '../src/index.js';

class Counted {
  static serviceName = 'counted';
  constructor(
    readonly delayMs: number,
    readonly counts: number[],
    readonly index: number,
  ) {}

  @entrypoint
  async hit(): Promise<void> {
    this.counts[this.index] = (this.counts[this.index] ?? 0) + 1;
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
  }
}

/** Calls per server after `calls` calls at `inFlight` at a time over servers with these delays. */
async function share(delaysMs: readonly number[], calls: number, inFlight: number): Promise<number[]> {
  const counts = delaysMs.map(() => 0);
  const servers = delaysMs.map((delayMs, i) =>
    new GawServer({ host: `127.0.0.${i + 1}`, port: 0 }).add(Counted, delayMs, counts, i),
  );
  await Promise.all(servers.map((s) => s.listen()));
  const client = new GawClient({ endpoints: servers.map((s, i) => `127.0.0.${i + 1}:${s.address.port}`) });
  try {
    let sent = 0;
    const worker = async () => {
      while (sent < calls) {
        sent++;
        await client.call('counted.hit');
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    return counts;
  } finally {
    await client.close();
    await Promise.all(servers.map((s) => s.close()));
  }
}

export async function runBalancingBench(options: { calls?: number } = {}): Promise<string> {
  const calls = options.calls ?? 20_000;
  const inFlight = 64;
  const slow = await share([1, 1, 1, 10], calls, inFlight);
  const slowShare = (slow[3] as number) / calls;
  const equal = await share([1, 1, 1, 1], calls, inFlight);
  const ratio = Math.max(...equal) / Math.min(...equal);
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  return [
    `${calls} calls, ${inFlight} in flight, one client, power of two choices on outstanding calls.`,
    '',
    '| case | calls per instance | measure | goal | verdict |',
    '|---|---|---|---|---|',
    `| one instance 10x slower (1 ms vs 10 ms) | ${slow.join(' / ')} | slow one's share ${(slowShare * 100).toFixed(2)}% | < 10% | ${verdict(slowShare < 0.1)} |`,
    `| four equal instances (1 ms) | ${equal.join(' / ')} | max/min ${ratio.toFixed(3)} | <= 1.2 | ${verdict(ratio <= 1.2)} |`,
  ].join('\n');
}
