// Turns one run's measurements into bench/RESULTS.md: the machine line, the command, the goals
// (each a ratio of two cases of this run, marked met / not met) and a table per group with the
// ratio columns the goals name. Pure: strings in, a string out; measuring is run.ts's job.
import { cpus, totalmem } from 'node:os';
import { median, spread } from './harness.js';
import type { LoopResult } from './harness.js';
import { gawId, goals, groups, limitId, meets, memoryGoalBytes } from './plan.js';
import type { CaseDef, GroupId } from './plan.js';

export interface CaseResult {
  def: CaseDef;
  /** One per round the case ran in (`round` numbers them from 0). */
  runs: (LoopResult & { round: number })[];
  /** Set when the case could not run at all. */
  failure?: string;
}

export interface MemoryResult {
  suite: string;
  requested: number;
  opened: number;
  serverConnections: number;
  openSeconds: number;
  rssGrowthBytes: number;
  heapGrowthBytes: number;
  failure?: string;
}

export interface ReportInput {
  command: string;
  settings: string;
  results: CaseResult[];
  memory: MemoryResult | undefined;
  codecTable: string | undefined;
  notes: string[];
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const ratio = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}x` : 'n/a');
const pct = (n: number) => (Number.isFinite(n) ? `±${(n * 50).toFixed(0)}%` : '');

function machineLine(): string {
  const cpu = cpus();
  return (
    `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ` +
    `Node ${process.version} on ${process.platform}/${process.arch}, ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`
  );
}

type Metric = 'callsPerSecond' | 'p50Us' | 'p99Us' | 'cpuUsPerCall' | 'serverCpuUsPerCall';

function metricOf(result: CaseResult | undefined, metric: Metric): number[] {
  if (result === undefined) return [];
  return result.runs.filter((r) => r.calls > 0 && r[metric] !== undefined).map((r) => r[metric]!);
}

const cpu = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 1 : 0) : 'n/a');

/** CPU time per call of both processes together. */
const totalCpu = (r: LoopResult) => r.cpuUsPerCall + (r.serverCpuUsPerCall ?? Number.NaN);

/**
 * The ratio a / b of a per-run value: the median of per-round ratios over the rounds both cases
 * ran in, or the ratio of the medians when they never shared a round.
 */
export function caseRatio(
  a: CaseResult | undefined,
  b: CaseResult | undefined,
  value: (r: LoopResult) => number,
): { value: number; spread: number } {
  const good = (c: CaseResult | undefined) => (c?.runs ?? []).filter((r) => r.calls > 0 && Number.isFinite(value(r)));
  const x = good(a);
  const y = good(b);
  if (x.length === 0 || y.length === 0) return { value: Number.NaN, spread: 0 };
  const pairs = (fromRound: number) =>
    x.flatMap((run) => {
      const other = run.round < fromRound ? undefined : y.find((r) => r.round === run.round);
      return other === undefined ? [] : [value(run) / value(other)];
    });
  // Rounds after the first run a goal's two cases back to back; the first round does not, so
  // its pair is left out when at least two adjacent pairs exist.
  const adjacent = pairs(1);
  const paired = adjacent.length > 1 ? adjacent : pairs(0);
  if (paired.length > 1) return { value: median(paired), spread: spread(paired) };
  return { value: median(x.map(value)) / median(y.map(value)), spread: 0 };
}

function goalRows(byId: Map<string, CaseResult>): string[] {
  const rows = [
    '| goal | ratio | spread | bound | status | the same by CPU per call |',
    '| --- | ---: | ---: | ---: | --- | ---: |',
  ];
  for (const goal of goals) {
    const num = byId.get(goal.numerator);
    const den = byId.get(goal.denominator);
    const r = caseRatio(num, den, (run) => run[goal.metric]);
    // Throughput goals again from CPU time per call (both processes): steadier on a shared machine.
    const byCpu = goal.metric === 'callsPerSecond' ? caseRatio(den, num, totalCpu).value : Number.NaN;
    const status = Number.isNaN(r.value) ? 'not measured' : meets(goal, r.value) ? '**met**' : '**not met**';
    rows.push(
      `| ${goal.name} | ${ratio(r.value)} | ${r.spread > 0 ? pct(r.spread) : ''} | ${goal.kind === 'min' ? '≥' : '≤'} ${goal.bound} | ${status} | ` +
        `${Number.isNaN(byCpu) ? '' : ratio(byCpu)} |`,
    );
  }
  return rows;
}

/** The comparison a row's ratio column shows, per group. */
function comparisonFor(def: CaseDef): { id: string; title: string } | undefined {
  const load = def.load;
  switch (def.group) {
    case 'inflight':
      return load.kind === 'gaw' ? { id: limitId(load.payload, load.inFlight), title: 'gaw / limit' } : undefined;
    case 'suites':
      return load.codec === 'msgpack'
        ? { id: gawId(load.suite!, 'json', load.payload, 64), title: 'vs JSON' }
        : { id: gawId('none', 'json', load.payload, 64), title: 'vs none' };
    case 'peers':
      return { id: gawId('none', 'json', 'tiny', 64), title: 'vs gaw' };
    case 'http':
      return def.id === 'http/node-http' ? undefined : { id: 'http/node-http', title: 'vs node:http' };
    case 'setup':
      return def.id === 'setup/tcp' ? undefined : { id: 'setup/tcp', title: 'vs TCP' };
  }
}

const ratioTitles: Record<GroupId, string> = {
  inflight: 'gaw / limit',
  suites: 'vs none (JSON) or vs JSON (msgpack)',
  peers: 'vs gaw none JSON',
  http: 'vs node:http',
  setup: 'vs bare TCP',
};

function groupTable(group: GroupId, results: CaseResult[], byId: Map<string, CaseResult>): string[] {
  const unit = group === 'setup' ? 'connections/s' : group === 'http' ? 'requests/s' : 'calls/s';
  const lines = [
    `## ${groups[group]}`,
    '',
    `| case | ${unit} | spread | p50 µs | p99 µs | ${ratioTitles[group]} | CPU µs/call: load / server | runs |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  // The peers table repeats gaw's and the limit's rows, so the comparison reads in one place.
  const references =
    group === 'peers'
      ? [gawId('none', 'json', 'tiny', 64), limitId('tiny', 64)]
          .flatMap((id) => byId.get(id) ?? [])
          .map((r) => ({ ...r, def: { ...r.def, group, label: `${r.def.label} (from the first table)` } }))
      : [];
  for (const result of [...references, ...results]) {
    if (result.failure !== undefined) {
      lines.push(`| ${result.def.label} | failed: ${result.failure.replace(/\|/g, '/')} | | | | | | 0 |`);
      continue;
    }
    const rates = metricOf(result, 'callsPerSecond');
    const compare = comparisonFor(result.def);
    const r = compare === undefined ? undefined : caseRatio(result, byId.get(compare.id), (run) => run.callsPerSecond);
    const errors = result.runs.reduce((n, run) => n + run.errors, 0);
    const note = errors > 0 ? ` (${errors} errors: ${result.runs.find((x) => x.firstError)?.firstError ?? ''})` : '';
    lines.push(
      `| ${result.def.label}${note} | ${int(median(rates))} | ${rates.length > 1 ? pct(spread(rates)) : ''} | ${int(median(metricOf(result, 'p50Us')))} | ` +
        `${int(median(metricOf(result, 'p99Us')))} | ${r === undefined ? '' : ratio(r.value)} | ` +
        `${cpu(median(metricOf(result, 'cpuUsPerCall')))} / ${cpu(median(metricOf(result, 'serverCpuUsPerCall')))} | ${rates.length} |`,
    );
  }
  return lines;
}

function memorySection(memory: MemoryResult): string[] {
  const perConnection = memory.rssGrowthBytes / Math.max(1, memory.serverConnections);
  const heapPer = memory.heapGrowthBytes / Math.max(1, memory.serverConnections);
  const status =
    memory.serverConnections < memory.requested
      ? '**not fully measured**'
      : perConnection < memoryGoalBytes
        ? '**met**'
        : '**not met**';
  return [
    `## Memory: ${int(memory.requested)} idle authenticated connections (suite ${memory.suite}, forward secrecy)`,
    '',
    '| connections held by the server | opened in | server RSS growth | per connection | heap + external growth per connection | goal < 64 KiB / connection |',
    '| ---: | ---: | ---: | ---: | ---: | --- |',
    `| ${int(memory.serverConnections)} | ${memory.openSeconds.toFixed(1)} s | ${(memory.rssGrowthBytes / 2 ** 20).toFixed(1)} MiB | ` +
      `${(perConnection / 1024).toFixed(1)} KiB | ${(heapPer / 1024).toFixed(1)} KiB | ${status} |`,
    ...(memory.failure === undefined ? [] : ['', `Opening stopped early: ${memory.failure}`]),
  ];
}

export function renderReport(input: ReportInput): string {
  const byId = new Map(input.results.map((r) => [r.def.id, r]));
  const lines = [
    '# gaw benchmark results',
    '',
    `Machine: ${machineLine()}`,
    '',
    `Command: \`${input.command}\` (${input.settings})`,
    '',
    'Server and load generator run in separate processes on 127.0.0.1 (the machine has only as many cores as listed, ' +
      'so both compete with anything else running). Every goal is a ratio of two cases of this same run; key cases ' +
      "run once per round (after the first, each goal's two cases back to back), so a goal ratio is the median of " +
      'the per-round ratios of those later rounds. "spread" is (max − min) / median of ' +
      'the repeats, shown as ± half of it. Latencies are per call, from the load generator. "CPU µs/call" is the ' +
      'user + system CPU time of the load generator and of the server process over the measured window divided by ' +
      'the calls: steadier than calls/s on a busy machine, and it tells which side to optimise. Ratio columns are ' +
      'medians of per-round ratios, so with a large spread they can differ from the ratio of the two medians shown.',
    '',
    '## Goals (issue 8)',
    '',
    ...goalRows(byId),
  ];
  if (input.memory !== undefined) lines.push('', ...memorySection(input.memory));
  for (const group of Object.keys(groups) as GroupId[]) {
    const results = input.results.filter((r) => r.def.group === group);
    if (results.length > 0) lines.push('', ...groupTable(group, results, byId));
  }
  if (input.codecTable !== undefined)
    lines.push('', '## Codecs alone (bench/serializable.ts, in-process)', '', input.codecTable);
  if (input.notes.length > 0) lines.push('', '## Analysis', '', ...input.notes);
  return `${lines.join('\n')}\n`;
}
