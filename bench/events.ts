// Events over a real redis-server of its own (a unix socket in a temp dir, killed by pid): durable
// events through one consumer group (emit -> handler, acknowledged) and broadcast (one subscriber),
// each as events per second from the first send to the last handler call, and as a ratio to
// redis-benchmark's XADD / PUBLISH rate of an equally large payload on the same socket in the same run.
// In-process (producer and consumer share one event loop); Redis is the other process.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { GawEvents } from '../src/events/index.js';

export interface EventsBenchOptions {
  /** Events per measured run (durable, broadcast). */
  durable?: number;
  broadcast?: number;
  /** Runs of each; the table shows the median and the spread. */
  rounds?: number;
  /** Sends in flight at once. */
  window?: number;
  log?: (line: string) => void;
}

const goals = { durable: 20_000, broadcast: 50_000 };

function findBinary(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin']) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {}
  }
  return undefined;
}

interface OwnRedis {
  socketPath: string;
  stop(): Promise<void>;
}

async function startRedis(path: string): Promise<OwnRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'gaw-bench-redis-'));
  const socketPath = join(dir, 'redis.sock');
  const child: ChildProcess = spawn(
    path,
    ['--port', '0', '--unixsocket', socketPath, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no'],
    { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const until = Date.now() + 10_000;
  for (;;) {
    const isUp = await new Promise<boolean>((resolve) => {
      const socket = connect(socketPath);
      socket.once('connect', () => resolve(socket.end() !== undefined));
      socket.once('error', () => resolve(false));
    });
    if (isUp) return { socketPath, stop };
    if (child.exitCode !== null || Date.now() > until) {
      await stop();
      throw new Error('redis-server did not listen on its unix socket within 10 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** redis-benchmark's requests per second for one command (50 clients, no pipelining: its defaults). */
function redisBenchmark(path: string, socketPath: string, requests: number, command: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(
      path,
      ['-s', socketPath, '-n', String(requests), '-c', '50', '--csv', ...command],
      { maxBuffer: 1 << 20 },
      (err, stdout) => {
        if (err) return reject(err);
        const last = stdout.trim().split('\n').pop() ?? '';
        const rps = Number(last.split(',')[1]?.replaceAll('"', ''));
        if (Number.isFinite(rps) && rps > 0) resolve(rps);
        else reject(new Error(`cannot read redis-benchmark's output: ${last.slice(0, 200)}`));
      },
    );
  });
}

/** Sends `count` events `window` at a time; resolves with events per second once `received()` reaches count. */
async function pump(
  count: number,
  window: number,
  send: (i: number) => Promise<unknown>,
  delivered: Promise<void>,
): Promise<number> {
  const start = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < count) await send(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
  await delivered;
  return count / ((performance.now() - start) / 1000);
}

function countTo(count: number, timeoutMs: number): { hit: () => void; done: Promise<void>; seen: () => number } {
  let seen = 0;
  let resolve: () => void = () => {};
  let reject: (err: Error) => void = () => {};
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = setTimeout(() => reject(new Error(`only ${seen} of ${count} events arrived`)), timeoutMs);
  void done.then(
    () => clearTimeout(timer),
    () => clearTimeout(timer),
  );
  return {
    hit: () => {
      if (++seen === count) resolve();
    },
    done,
    seen: () => seen,
  };
}

const payload = (i: number) => ({ orderId: i, customer: 'c-1042', total: 129.5, items: 3 });

async function durableRun(url: string, secret: string, count: number, window: number, round: number): Promise<number> {
  const producer = new GawEvents({ url, secret, source: 'bench-producer' });
  const consumer = new GawEvents({ url, secret, source: 'bench-consumer' });
  try {
    const counter = countTo(count, 120_000);
    await consumer.on('order.created', () => counter.hit(), { group: `bench-${round}` });
    const rate = await pump(count, window, (i) => producer.emit('order.created', payload(i)), counter.done);
    if (consumer.stats.failed > 0 || Object.keys(consumer.stats.refused).length > 0)
      throw new Error(`the consumer refused or failed events: ${JSON.stringify(consumer.stats)}`);
    return rate;
  } finally {
    await Promise.allSettled([producer.close(), consumer.close()]);
  }
}

async function broadcastRun(url: string, secret: string, count: number, window: number): Promise<number> {
  const producer = new GawEvents({ url, secret, source: 'bench-producer' });
  const subscriber = new GawEvents({ url, secret, source: 'bench-subscriber' });
  try {
    const counter = countTo(count, 120_000);
    await subscriber.on('price.tick', () => counter.hit());
    return await pump(count, window, (i) => producer.broadcast('price.tick', payload(i)), counter.done);
  } finally {
    await Promise.allSettled([producer.close(), subscriber.close()]);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Runs the events benchmark; returns a markdown section (or a line saying why it was skipped). */
export async function runEventsBench(options: EventsBenchOptions = {}): Promise<string> {
  const log = options.log ?? (() => {});
  const server = findBinary('redis-server');
  if (server === undefined) return 'skipped: redis-server not found (Debian package redis-server)';
  const benchmark = findBinary('redis-benchmark');
  const rounds = options.rounds ?? 3;
  const window = options.window ?? 256;
  const counts = { durable: options.durable ?? 50_000, broadcast: options.broadcast ?? 100_000 };
  const secret = randomBytes(32).toString('base64');
  const redis = await startRedis(server);
  const url = `redis+unix://${redis.socketPath}`;
  try {
    // The payload redis-benchmark sends is as large as one of our envelopes.
    const envelopeBytes = await measureEnvelope(url, secret);
    const filler = 'x'.repeat(envelopeBytes);
    const rates = { durable: [] as number[], broadcast: [] as number[], xadd: [] as number[], publish: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      rates.durable.push(await durableRun(url, secret, counts.durable, window, r));
      rates.broadcast.push(await broadcastRun(url, secret, counts.broadcast, window));
      if (benchmark !== undefined) {
        const stream = `bench:xadd:${r}`;
        rates.xadd.push(
          await redisBenchmark(benchmark, redis.socketPath, counts.durable * 2, [
            'XADD',
            stream,
            'MAXLEN',
            '~',
            '100000',
            '*',
            'e',
            filler,
          ]),
        );
        rates.publish.push(
          await redisBenchmark(benchmark, redis.socketPath, counts.broadcast * 2, ['PUBLISH', 'bench:pub', filler]),
        );
      }
      log(
        `  events round ${r + 1}: durable ${fmt(rates.durable[r]!)}/s, broadcast ${fmt(rates.broadcast[r]!)}/s` +
          (benchmark === undefined
            ? ''
            : `; redis-benchmark XADD ${fmt(rates.xadd[r]!)}/s, PUBLISH ${fmt(rates.publish[r]!)}/s`),
      );
    }
    const row = (what: string, ours: number[], goal: number, theirs: number[], theirName: string) => {
      const m = median(ours);
      const ratio =
        theirs.length > 0 ? `${(m / median(theirs)).toFixed(2)} of ${theirName} ${fmt(median(theirs))}/s` : '–';
      return `| ${what} | ${fmt(m)} | ${fmt(Math.min(...ours))}–${fmt(Math.max(...ours))} | ${fmt(goal)} | ${m >= goal ? 'met' : 'NOT met'} | ${ratio} |`;
    };
    return [
      `${rounds} rounds of ${fmt(counts.durable)} durable and ${fmt(counts.broadcast)} broadcast events, ${window} sends in flight, envelope ${envelopeBytes} bytes; ` +
        (benchmark === undefined
          ? 'redis-benchmark not found (Debian package redis-tools), so no ratio.'
          : 'redis-benchmark: 50 clients, no pipelining, the same payload size, on the same socket.'),
      '',
      '| case | events/s (median) | spread | goal | | ratio to redis-benchmark (median) |',
      '|---|---:|---:|---:|---|---|',
      row('durable: emit -> one group -> handler, acked', rates.durable, goals.durable, rates.xadd, 'XADD'),
      row('broadcast: publish -> one subscriber', rates.broadcast, goals.broadcast, rates.publish, 'PUBLISH'),
    ].join('\n');
  } finally {
    await redis.stop();
  }
}

async function measureEnvelope(url: string, secret: string): Promise<number> {
  const events = new GawEvents({ url, secret, source: 'bench-producer' });
  try {
    const id = await events.emit('order.created', payload(0));
    const { createClient } = await import('@redis/client');
    const client = createClient({ socket: { path: url.slice('redis+unix://'.length) } } as object);
    await client.connect();
    try {
      // Bulk strings as Buffers (RESP type '$'), so the binary envelope's length is exact.
      const reply = (await client.sendCommand(['XRANGE', 'gaw:{default}:evs:order.created', id, id], {
        typeMapping: { 36: Buffer },
      })) as [[Buffer, Buffer[]]];
      return reply[0][1][1]!.length;
    } finally {
      await client.close();
    }
  } finally {
    await events.close();
  }
}

if (process.argv[1]?.endsWith('events.js') && import.meta.url.endsWith('bench/events.js')) {
  console.log(await runEventsBench({ log: console.log }));
}
