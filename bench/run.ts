// `npm run bench`: runs the cases of plan.ts (each server and each load generator in its own
// process), repeats the key cases in rounds, measures the idle-connection memory case and the
// codec micro-benchmark, and writes bench/RESULTS.md. Flags: --quick, --filter, --repeats, --out.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startChild } from './child.js';
import type { Child } from './child.js';
import type { LoopResult } from './harness.js';
import type { LoadArgs } from './load.js';
import { buildCases, goals } from './plan.js';
import type { CaseDef } from './plan.js';
import { renderReport } from './report.js';
import type { CaseResult, MemoryResult } from './report.js';
import { runBalancingBench } from './balancing.js';
import { runDiscoveryBench } from './discovery.js';
import { runCancelBench } from './cancel.js';
import { runStreamBench } from './streams.js';
import { runEventsBench } from './events.js';
import { runWebSocketBench } from './websocket.js';
import { runInstructionBench } from './instructions.js';
import { run as runCodecBench } from './serializable.js';

export interface BenchOptions {
  isQuick: boolean;
  filters: string[];
  repeats: number;
  warmupMs: number;
  durationMs: number;
  memoryConnections: number;
  hasCodecBench: boolean;
  hasCancelBench: boolean;
  hasBalancingBench: boolean;
  hasDiscoveryBench: boolean;
  hasStreamBench: boolean;
  hasInstructionBench: boolean;
  hasEventsBench: boolean;
  hasWebSocketBench: boolean;
  out: string | undefined;
  /** When set, every child runs with --cpu-prof and writes its profile here. */
  profileDir: string | undefined;
  log: (line: string) => void;
}

const usage = `usage: node dist/bench/run.js [--quick] [--filter text]... [--repeats n] [--warmup ms] [--duration ms]
       [--connections n] [--no-memory] [--no-codec] [--out path | --no-out] [--cpu-prof dir]
  --filter  runs the cases whose id contains the text (e.g. gaw/cbc, limit/tiny/x64, http/, setup/);
            'memory', 'codec', 'cancel', 'balancing', 'discovery', 'streams', 'instructions', 'events' and 'websocket' select those parts; several filters (or a,b) add up`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      filter: { type: 'string', multiple: true, default: [] },
      repeats: { type: 'string' },
      warmup: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      'no-memory': { type: 'boolean', default: false },
      'no-codec': { type: 'boolean', default: false },
      out: { type: 'string' },
      'no-out': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const isQuick = values.quick === true;
  const number = (name: string, value: string | undefined, fallback: number, min: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`--${name} must be an integer of at least ${min}, not ${JSON.stringify(value)}\n${usage}`);
    return n;
  };
  const filters = (values.filter ?? []).flatMap((f) => f.split(',')).filter((f) => f !== '');
  return {
    isQuick,
    filters,
    repeats: number('repeats', values.repeats, isQuick ? 1 : 5, 1),
    warmupMs: number('warmup', values.warmup, isQuick ? 150 : 500, 0),
    durationMs: number('duration', values.duration, isQuick ? 400 : 1500, 50),
    memoryConnections:
      values['no-memory'] || (filters.length > 0 && !filters.some((f) => 'memory'.includes(f)))
        ? 0
        : number('connections', values.connections, isQuick ? 200 : 10_000, 1),
    hasCodecBench: !values['no-codec'] && (filters.length === 0 || filters.some((f) => 'codec'.includes(f))),
    hasCancelBench: filters.length === 0 || filters.some((f) => 'cancel'.includes(f)),
    hasBalancingBench: filters.length === 0 || filters.some((f) => 'balancing'.includes(f)),
    hasDiscoveryBench: filters.length === 0 || filters.some((f) => 'discovery'.includes(f)),
    hasStreamBench: filters.length === 0 || filters.some((f) => 'streams'.includes(f)),
    hasInstructionBench: filters.length === 0 || filters.some((f) => 'instructions'.includes(f)),
    hasEventsBench: filters.length === 0 || filters.some((f) => 'events'.includes(f)),
    hasWebSocketBench: filters.length === 0 || filters.some((f) => 'websocket'.includes(f)),
    out: values['no-out']
      ? undefined
      : (values.out ?? fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url))),
    profileDir: values['cpu-prof'],
    log: (line) => console.log(line),
  };
}

function profileArgs(options: BenchOptions, name: string): string[] {
  if (options.profileDir === undefined) return [];
  return [
    '--cpu-prof',
    `--cpu-prof-dir=${options.profileDir}`,
    `--cpu-prof-name=${name.replace(/[^a-z0-9-]+/gi, '_')}.cpuprofile`,
  ];
}

/**
 * Round 1 runs every case, grouped by server. Later rounds run the key cases again, each goal's
 * two cases back to back (alternating which goes first), so a drifting machine moves both alike.
 */
function planRounds(cases: CaseDef[], repeats: number): CaseDef[][] {
  // Connection set-up first and jayson's socket-per-call client last: both leave thousands of
  // sockets in TIME_WAIT, and fresh ephemeral ports keep the set-up numbers honest.
  const rank = (c: CaseDef) => (c.group === 'setup' ? 0 : c.load.kind === 'jayson-tcp' ? 2 : 1);
  const rounds = [[...cases].sort((a, b) => rank(a) - rank(b) || serverKey(a).localeCompare(serverKey(b)))];
  const byId = new Map(cases.map((c) => [c.id, c]));
  const paired = [...new Set(goals.flatMap((g) => [g.numerator, g.denominator]))].filter((id) => byId.get(id)?.isKey);
  const keyOrder = [...paired, ...cases.filter((c) => c.isKey && !paired.includes(c.id)).map((c) => c.id)].map(
    (id) => byId.get(id)!,
  );
  for (let r = 1; r < repeats; r++) rounds.push(r % 2 === 1 ? keyOrder : [...keyOrder].reverse());
  return rounds;
}

function serverKey(def: CaseDef): string {
  return `${def.server.script} ${JSON.stringify(def.server.args)}`;
}

async function runCase(def: CaseDef, server: Child, port: number, options: BenchOptions): Promise<LoopResult> {
  const args: LoadArgs = {
    mode: 'loop',
    port,
    spec: def.load,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
  };
  const load = startChild('load', args, { execArgv: profileArgs(options, `load-${def.id}`) });
  // The server's CPU time over the same window, sampled when the load generator opens and closes it.
  // Both waits are registered now, so the closing message cannot arrive before anyone listens for it.
  const serverCpuAt = async (window: Promise<unknown>): Promise<number> => {
    await window;
    const usage = await server.request({ type: 'cpu' }, 'cpu', 10_000);
    return (usage.user as number) + (usage.system as number);
  };
  const opened = serverCpuAt(load.next('window', options.warmupMs + 60_000));
  const closed = serverCpuAt(load.next('window', options.warmupMs + options.durationMs + 60_000));
  const cpuSpan = Promise.all([opened, closed]).then(([start, end]) => end - start);
  cpuSpan.catch(() => {});
  try {
    const reply = await load.next('result', options.warmupMs + options.durationMs + 60_000);
    if (typeof reply.error === 'string') throw new Error(reply.error);
    const result = reply.result as LoopResult;
    result.serverCpuUsPerCall = (await cpuSpan) / Math.max(1, result.calls);
    return result;
  } finally {
    await load.stop();
  }
}

async function runRounds(rounds: CaseDef[][], order: string[], options: BenchOptions): Promise<CaseResult[]> {
  const results = new Map<string, CaseResult>();
  for (const [index, round] of rounds.entries()) {
    options.log(`round ${index + 1} of ${rounds.length}: ${round.length} cases`);
    let server: Child | undefined;
    let key = '';
    for (const def of round) {
      const result = results.get(def.id) ?? { def, runs: [] };
      results.set(def.id, result);
      try {
        if (server === undefined || key !== serverKey(def)) {
          await server?.stop();
          server = startChild(def.server.script, def.server.args, {
            execArgv: profileArgs(options, `server-${def.id}`),
          });
          key = serverKey(def);
        }
        const ready = await server.ready;
        const port = (def.load.kind === 'http' ? (ready.httpPort ?? ready.port) : ready.port) as number;
        const run = await runCase(def, server, port, options);
        result.runs.push({ ...run, round: index });
        options.log(
          `  ${def.id.padEnd(30)} ${Math.round(run.callsPerSecond).toLocaleString('en-US').padStart(9)}/s  p50 ${run.p50Us.toFixed(0)} µs  p99 ${run.p99Us.toFixed(0)} µs  cpu/call client ${run.cpuUsPerCall.toFixed(1)} server ${run.serverCpuUsPerCall?.toFixed(1)} µs` +
            (run.errors > 0 ? `  ${run.errors} errors: ${run.firstError}` : ''),
        );
      } catch (err) {
        result.failure = err instanceof Error ? err.message : String(err);
        options.log(`  ${def.id}: FAILED ${result.failure}`);
        await server?.stop();
        server = undefined;
      }
    }
    await server?.stop();
  }
  // Shown in the plan's order, not the order the servers happened to run in.
  return rounds[0]!
    .map((def) => results.get(def.id)!)
    .sort((a, b) => order.indexOf(a.def.id) - order.indexOf(b.def.id));
}

/** Server memory with `count` idle authenticated connections, against the same server before them. */
export async function measureIdleMemory(count: number, log: (line: string) => void): Promise<MemoryResult> {
  const suite = 'cbc';
  const server = startChild('server-gaw', { suite }, { execArgv: ['--expose-gc'] });
  const ready = await server.ready;
  const memory = async () => server.request({ type: 'memory' }, 'memory', 30_000);
  await memory();
  const before = await memory();
  const load = startChild('load', {
    mode: 'idle',
    port: ready.port as number,
    suite,
    count,
    concurrency: 64,
  } satisfies LoadArgs);
  try {
    const opened = await load.next('opened', 10 * 60_000);
    // The client's dial resolves once it has sent its finish; give the server a moment to accept the last ones.
    let after = await memory();
    for (let i = 0; i < 50 && (after.connections as number) < (opened.count as number); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await memory();
    }
    const result: MemoryResult = {
      suite,
      requested: count,
      opened: opened.count as number,
      serverConnections: after.connections as number,
      openSeconds: opened.seconds as number,
      rssGrowthBytes: (after.rss as number) - (before.rss as number),
      heapGrowthBytes:
        (after.heapUsed as number) +
        (after.external as number) -
        (before.heapUsed as number) -
        (before.external as number),
      ...(typeof opened.failure === 'string' && { failure: opened.failure }),
    };
    log(
      `  memory: ${result.serverConnections} connections, RSS +${(result.rssGrowthBytes / 2 ** 20).toFixed(1)} MiB ` +
        `(${(result.rssGrowthBytes / Math.max(1, result.serverConnections) / 1024).toFixed(1)} KiB each)`,
    );
    return result;
  } finally {
    await load.stop();
    await server.stop();
  }
}

/** Runs the whole benchmark; returns the markdown report (also written to `options.out`). */
export async function runBench(options: BenchOptions, command: string): Promise<string> {
  process.env.GAW_BENCH_SECRET ??= randomBytes(32).toString('base64');
  const startMs = performance.now();
  const cases = buildCases().filter(
    (c) => options.filters.length === 0 || options.filters.some((f) => c.id.includes(f)),
  );
  const results = await runRounds(
    planRounds(cases, options.repeats),
    cases.map((c) => c.id),
    options,
  );
  let memory: MemoryResult | undefined;
  if (options.memoryConnections > 0) {
    options.log(`memory: opening ${options.memoryConnections} idle connections`);
    try {
      memory = await measureIdleMemory(options.memoryConnections, options.log);
    } catch (err) {
      options.log(`  memory: FAILED ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  let codecTable: string | undefined;
  if (options.hasCodecBench) {
    options.log('codecs: in-process round trips');
    codecTable = await runCodecBench(options.isQuick ? { rounds: 1, iterations: 2_000 } : {});
  }
  if (options.hasCancelBench) {
    options.log('call context: cancel propagation and deadline overshoot');
    const table = await runCancelBench(options.isQuick ? { rounds: 50 } : {});
    codecTable = `${codecTable ?? ''}\n\n## Call context: cancellation and deadlines over loopback (bench/cancel.ts, in-process)\n\n${table}`;
  }
  if (options.hasBalancingBench) {
    options.log('balancing: calls per instance over four servers');
    const table = await runBalancingBench(options.isQuick ? { calls: 4_000 } : {});
    codecTable = `${codecTable ?? ''}\n\n## Balancing: calls per instance (bench/balancing.ts, in-process)\n\n${table}`;
  }
  if (options.hasDiscoveryBench) {
    options.log('discovery: SIGKILL to the last client leaving the instance out');
    const table = await runDiscoveryBench(options.isQuick ? { kills: 3 } : {});
    codecTable = `${codecTable ?? ''}\n\n## Discovery: a SIGKILLed server leaving every client's view (bench/discovery.ts)\n\n${table}`;
  }
  if (options.hasStreamBench) {
    options.log('streams: 64 KiB items vs pipelined unary calls; unary p99 beside a stream');
    const table = await runStreamBench({
      ...(options.isQuick && { totalBytes: 32 * 2 ** 20, rounds: 1, latencyMs: 500 }),
      log: options.log,
    });
    codecTable = `${codecTable ?? ''}\n\n## Streams vs unary calls on one connection (bench/streams.ts, server in a child process)\n\n${table}`;
  }
  if (options.hasInstructionBench) {
    options.log('instructions: callgrind counts per call');
    const table = await runInstructionBench({
      ...(options.isQuick && { calls: [1_000, 3_000] as [number, number] }),
      log: options.log,
    });
    codecTable = `${codecTable ?? ''}\n\n## Instructions per call (bench/instructions.ts, valgrind callgrind)\n\n${table}`;
  }
  if (options.hasEventsBench) {
    options.log('events: durable (one group) and broadcast over a redis-server of its own');
    const table = await runEventsBench({
      ...(options.isQuick && { durable: 10_000, broadcast: 20_000, rounds: 1 }),
      log: options.log,
    });
    codecTable = `${codecTable ?? ''}\n\n## Events over Redis (bench/events.ts, in-process, redis-server on a unix socket)\n\n${table}`;
  }
  if (options.hasWebSocketBench) {
    options.log('websocket: tiny calls over the bridge WebSocket vs a minimal ws server and vs POST');
    const table = await runWebSocketBench({
      ...(options.isQuick && { rounds: 1, warmupMs: 200, durationMs: 500 }),
      log: options.log,
    });
    codecTable = `${codecTable ?? ''}\n\n## WebSocket: tiny calls, 64 in flight (bench/websocket.ts, in-process)\n\n${table}`;
  }
  const settings =
    `warm-up ${options.warmupMs} ms and a ${options.durationMs} ms window per case; key cases ${options.repeats}x; ` +
    `whole run ${((performance.now() - startMs) / 1000).toFixed(0)} s`;
  const notes = readAnalysis();
  const report = renderReport({ command, settings, results, memory, codecTable, notes });
  if (options.out !== undefined) {
    writeFileSync(options.out, report);
    options.log(`wrote ${options.out}`);
  }
  return report;
}

/** The hand-written analysis (bench/analysis.md) appended to every report, when present. */
function readAnalysis(): string[] {
  try {
    return [readFileSync(fileURLToPath(new URL('../../bench/analysis.md', import.meta.url)), 'utf8').trim()];
  } catch {
    return [];
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const report = await runBench(options, ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '));
  if (options.out === undefined) console.log(report);
}
