// How fast a caller's cancellation and deadline reach a handler over real loopback sockets: the
// time from AbortController.abort() on the client to the handler's callContext().signal aborting
// (one hop), and how late the last hop's signal aborts after a caller's 50 ms deadline through a
// gateway (two hops). In-process, so both ends read one clock; p50 and p99 over many rounds.
import { GawClient, GawServer, callContext, entrypoint } from '../src/index.js';

class Waiter {
  static serviceName = 'waiter';
  constructor(
    readonly next: GawClient | undefined,
    readonly onAbort: (at: number) => void,
    readonly onStart: () => void,
  ) {}

  @entrypoint
  async wait(): Promise<string> {
    await Promise.resolve();
    if (this.next !== undefined) return this.next.call('waiter.wait');
    const { signal } = callContext()!;
    this.onStart();
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    this.onAbort(performance.now());
    return 'aborted';
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function runCancelBench(options: { rounds?: number } = {}): Promise<string> {
  const rounds = options.rounds ?? 300;
  let abortedAt = 0;
  let started: () => void = () => {};
  const onAbort = (at: number) => {
    abortedAt = at;
  };
  const onStart = () => started();
  const leaf = new GawServer({ port: 0 }).add(Waiter, undefined, onAbort, onStart);
  await leaf.listen();
  const toLeaf = new GawClient({ port: leaf.address.port, retries: 0 });
  const gateway = new GawServer({ port: 0 }).add(Waiter, toLeaf, onAbort, onStart);
  await gateway.listen();
  const direct = new GawClient({ port: leaf.address.port, retries: 0 });
  const viaGateway = new GawClient({ port: gateway.address.port, retries: 0 });
  const cancelUs: number[] = [];
  const overshootUs: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const controller = new AbortController();
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      const call = direct.call('waiter.wait', [], { signal: controller.signal }).catch(() => {});
      await running;
      const at = performance.now();
      controller.abort();
      await call;
      while (abortedAt < at) await new Promise((resolve) => setImmediate(resolve));
      cancelUs.push((abortedAt - at) * 1000);
    }
    for (let i = 0; i < Math.min(rounds, 100); i++) {
      const at = performance.now();
      await viaGateway.call('waiter.wait', [], { timeoutMs: 50 }).catch(() => {});
      while (abortedAt < at) await new Promise((resolve) => setImmediate(resolve));
      overshootUs.push((abortedAt - (at + 50)) * 1000);
    }
  } finally {
    for (const c of [direct, viaGateway, toLeaf]) c.destroy();
    await gateway.close();
    await leaf.close();
  }
  cancelUs.sort((a, b) => a - b);
  overshootUs.sort((a, b) => a - b);
  const row = (label: string, values: number[]) =>
    `| ${label} | ${values.length} | ${percentile(values, 50).toFixed(0)} µs | ${percentile(values, 99).toFixed(0)} µs |`;
  return [
    '| what | rounds | p50 | p99 |',
    '| --- | --- | --- | --- |',
    row("abort() on the client to the handler's signal aborting (one hop)", cancelUs),
    row("last hop's signal after a 50 ms caller deadline, two hops (overshoot)", overshootUs),
  ].join('\n');
}
