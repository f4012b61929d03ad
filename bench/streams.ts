// Streams against unary calls on one encrypted connection (suite cbc, msgpack), the server in a
// child process: the throughput of a stream of 64 KiB items against the same bytes fetched as
// pipelined unary 64 KiB calls (rounds alternate which goes first), and the p50/p99 latency of
// sequential unary calls alone and with one stream running on the same connection.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { GawClient } from '../src/client/index.js';
import type { Remote } from '../src/client/index.js';
import type { StreamBench } from './stream-server.js';

export interface StreamBenchOptions {
  /** Bytes per throughput run (default 256 MiB). */
  totalBytes?: number;
  itemBytes?: number;
  rounds?: number;
  /** Unary calls in flight for the pipelined run. */
  inFlight?: number;
  /** Length of each latency window. */
  latencyMs?: number;
  log?: (line: string) => void;
}

const MiB = 1024 * 1024;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function streamRun(bench: Remote<StreamBench>, count: number, itemBytes: number): Promise<number> {
  const started = performance.now();
  let bytes = 0;
  for await (const item of bench.items(count, itemBytes)) bytes += item.length;
  if (bytes !== count * itemBytes) throw new Error(`the stream brought ${bytes} bytes, not ${count * itemBytes}`);
  return bytes / MiB / ((performance.now() - started) / 1000);
}

async function unaryRun(bench: Remote<StreamBench>, count: number, itemBytes: number, inFlight: number) {
  const started = performance.now();
  let next = 0;
  let bytes = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const chunk = await bench.chunk(itemBytes);
      bytes += chunk.length;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  if (bytes !== count * itemBytes) throw new Error(`the calls brought ${bytes} bytes, not ${count * itemBytes}`);
  return bytes / MiB / ((performance.now() - started) / 1000);
}

/** Sequential echo calls for `ms`: latencies in µs, sorted. */
async function latencies(bench: Remote<StreamBench>, ms: number): Promise<number[]> {
  const out: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const started = performance.now();
    await bench.echo(out.length);
    out.push((performance.now() - started) * 1000);
  }
  return out.sort((a, b) => a - b);
}

export async function runStreamBench(options: StreamBenchOptions = {}): Promise<string> {
  const itemBytes = options.itemBytes ?? 64 * 1024;
  const count = Math.ceil((options.totalBytes ?? 256 * MiB) / itemBytes);
  const rounds = options.rounds ?? 3;
  const inFlight = options.inFlight ?? 16;
  const latencyMs = options.latencyMs ?? 2_000;
  const log = options.log ?? (() => {});
  const secret = randomBytes(32).toString('base64');
  const script = fileURLToPath(new URL('./stream-server.js', import.meta.url));
  const child = fork(script, ['--stream-bench-server', secret], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`the stream bench server exited with ${code}`)));
    });
    const client = new GawClient({ port, secret, encrypt: true, codec: 'msgpack', poolSize: 1, timeoutMs: 600_000 });
    try {
      const bench = client.service<StreamBench>('sbench');
      await streamRun(bench, 64, itemBytes);
      await unaryRun(bench, 64, itemBytes, inFlight);
      const streamMiBs: number[] = [];
      const unaryMiBs: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const first = r % 2 === 0;
        if (first) streamMiBs.push(await streamRun(bench, count, itemBytes));
        unaryMiBs.push(await unaryRun(bench, count, itemBytes, inFlight));
        if (!first) streamMiBs.push(await streamRun(bench, count, itemBytes));
        log(
          `  streams round ${r + 1}: stream ${streamMiBs.at(-1)!.toFixed(0)} MiB/s, unary x${inFlight} ${unaryMiBs.at(-1)!.toFixed(0)} MiB/s`,
        );
      }
      const ratios = streamMiBs.map((s, i) => s / unaryMiBs[i]!);
      await latencies(bench, 200);
      const alone = await latencies(bench, latencyMs);
      let isStreaming = true;
      const background = (async () => {
        let items = 0;
        for await (const _ of bench.items(Number.MAX_SAFE_INTEGER, itemBytes)) {
          items++;
          if (!isStreaming) break;
        }
        return items;
      })();
      const withStream = await latencies(bench, latencyMs);
      isStreaming = false;
      const streamedItems = await background;
      log(
        `  unary p99 alone ${percentile(alone, 99).toFixed(0)} µs, with a stream ${percentile(withStream, 99).toFixed(0)} µs`,
      );
      const f = (v: number) => v.toFixed(0);
      const ratioText = `${median(ratios).toFixed(2)}x (rounds ${ratios.map((x) => x.toFixed(2)).join(', ')})`;
      return [
        `${count} items of ${itemBytes / 1024} KiB (${((count * itemBytes) / MiB).toFixed(0)} MiB) per run, ${rounds} rounds alternating the order; goal stream/unary >= 0.8x.`,
        '',
        '| case | MiB/s (median) | runs |',
        '| --- | --- | --- |',
        `| stream of 64 KiB items | ${f(median(streamMiBs))} | ${streamMiBs.map(f).join(', ')} |`,
        `| unary 64 KiB calls, ${inFlight} in flight | ${f(median(unaryMiBs))} | ${unaryMiBs.map(f).join(', ')} |`,
        `| stream / unary | ${ratioText} | goal >= 0.8: ${median(ratios) >= 0.8 ? 'met' : 'NOT met'} |`,
        '',
        `Sequential unary echo calls for ${latencyMs} ms on the same connection:`,
        '',
        '| case | calls | p50 µs | p99 µs |',
        '| --- | --- | --- | --- |',
        `| alone | ${alone.length} | ${f(percentile(alone, 50))} | ${f(percentile(alone, 99))} |`,
        `| with one stream running (${streamedItems} items meanwhile) | ${withStream.length} | ${f(percentile(withStream, 50))} | ${f(percentile(withStream, 99))} |`,
      ].join('\n');
    } finally {
      await client.close();
    }
  } finally {
    child.kill('SIGKILL');
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await runStreamBench({ log: (line) => console.log(line) }));
}
