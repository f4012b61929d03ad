// A strict parser of the Prometheus text exposition format (version 0.0.4), for tests that read
// /metrics: every line must be a HELP, a TYPE or a sample of a family typed before it; names,
// label names and escapes are checked; a series appears once; a histogram's buckets are
// cumulative and its +Inf bucket equals its _count. Throws, naming the line, on anything else.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string | undefined;
  samples: Sample[];
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const types = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, where: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad value ${text}`);
  return Number(text);
}

/** Reads `{a="1",b="x\"y"}` from `line` at `start` (just after the name); returns the labels and where it ended. */
function parseLabels(line: string, start: number, where: string): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (line[i] === '}') return [labels, i + 1];
    const eq = line.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: a label without =`);
    const name = line.slice(i, eq);
    if (!labelName.test(name)) throw new Error(`${where}: bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    if (line[eq + 1] !== '"') throw new Error(`${where}: label ${name}'s value is not quoted`);
    let value = '';
    let j = eq + 2;
    for (; ; j++) {
      const c = line[j];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const next = line[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`${where}: bad escape \\${next}`);
      } else value += c;
    }
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`${where}: expected , or } after label ${name}`);
  }
}

/** The family a sample name belongs to, for its type. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const exact = families.get(name);
  if (exact !== undefined) return exact;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const family = families.get(name.slice(0, -suffix.length));
    if (family !== undefined && (family.type === 'histogram' || (family.type === 'summary' && suffix !== '_bucket')))
      return family;
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition does not end with a newline');
  text.split('\n').forEach((line, index) => {
    const where = `line ${index + 1} ${JSON.stringify(line)}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (match === null) return; // a plain comment
      const [, kind, name, rest = ''] = match;
      if (!metricName.test(name!)) throw new Error(`${where}: bad metric name`);
      let family = families.get(name!);
      if (kind === 'TYPE') {
        if (!types.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
        if (family !== undefined && family.samples.length > 0) throw new Error(`${where}: TYPE after samples`);
        if (family?.type !== undefined && family.type !== '') throw new Error(`${where}: TYPE twice`);
        if (family === undefined) families.set(name!, { name: name!, type: rest, help: undefined, samples: [] });
        else family.type = rest;
      } else {
        if (family?.help !== undefined) throw new Error(`${where}: HELP twice`);
        family ??= { name: name!, type: '', help: undefined, samples: [] };
        family.help = rest;
        families.set(name!, family);
      }
      return;
    }
    const nameEnd = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0].length ?? 0;
    if (nameEnd === 0) throw new Error(`${where}: not a sample`);
    const name = line.slice(0, nameEnd);
    let labels: Record<string, string> = {};
    let end = nameEnd;
    if (line[nameEnd] === '{') [labels, end] = parseLabels(line, nameEnd, where);
    const parts = line.slice(end).split(' ');
    if (parts[0] !== '' || parts.length < 2 || parts.length > 3)
      throw new Error(`${where}: expected " value [timestamp]"`);
    const value = parseValue(parts[1]!, where);
    const family = familyOf(name, families);
    if (family === undefined || family.type === '') throw new Error(`${where}: a sample of no TYPE declared before it`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`${where}: the same series twice`);
    seen.add(key);
    family.samples.push({ name, labels, value });
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

/** Each series' buckets cumulative, ending at +Inf with the _count. */
function checkHistogram(family: Family): void {
  const bySeries = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const series = bySeries.get(key) ?? { buckets: [] };
    bySeries.set(key, series);
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      series.buckets.push([parseValue(le, family.name), sample.value]);
    } else if (sample.name.endsWith('_count')) series.count = sample.value;
  }
  for (const [key, { buckets, count }] of bySeries) {
    for (let i = 1; i < buckets.length; i++)
      if (buckets[i]![0] <= buckets[i - 1]![0] || buckets[i]![1] < buckets[i - 1]![1])
        throw new Error(`${family.name}${key}: buckets not increasing`);
    const last = buckets.at(-1);
    if (last === undefined || last[0] !== Number.POSITIVE_INFINITY || last[1] !== count)
      throw new Error(`${family.name}${key}: the +Inf bucket is not the _count`);
  }
}

/**
 * The value of the one sample named `name` whose labels include `labels` (0 when the family has none
 * such and `orZero`, for counters not yet moved). Throws when several match.
 */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
  orZero = false,
): number {
  const family = familyOf(name, families);
  const found = (family?.samples ?? []).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length === 0 && orZero) return 0;
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} with ${JSON.stringify(labels)}, not one`);
  return found[0]!.value;
}
