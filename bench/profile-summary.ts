// Reads a V8 .cpuprofile (from `npm run bench -- --cpu-prof dir`) and prints where the time went:
// self time per function and file, heaviest first, and the share spent in gaw's own source.
// Run: `node dist/bench/profile-summary.js file.cpuprofile [top]`. Reads only; no benchmarking.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

/** Self time per function (name + file:line), heaviest first. */
export function summarize(profile: Profile): { totalMs: number; lines: ProfileLine[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, { name: string; where: string; us: number }>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    const us = profile.timeDeltas[i] ?? 0;
    if (node === undefined) continue;
    totalUs += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
    const where = file === '' ? '' : `${file}:${lineNumber + 1}`;
    const key = `${functionName}@${where}`;
    const entry = selfUs.get(key) ?? { name: functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    selfUs.set(key, entry);
  }
  const lines = [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, share: totalUs === 0 ? 0 : e.us / totalUs }));
  return { totalMs: totalUs / 1000, lines };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: node dist/bench/profile-summary.js file.cpuprofile [top]');
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 30);
  const { totalMs, lines } = summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const ours = lines.filter((l) => l.where.startsWith('dist/src/')).reduce((s, l) => s + l.share, 0);
  console.log(
    `${file}: ${totalMs.toFixed(0)} ms sampled; gaw's own code (dist/src) ${(ours * 100).toFixed(1)}% self time`,
  );
  for (const l of lines.slice(0, top)) {
    console.log(
      `${(l.share * 100).toFixed(1).padStart(5)}%  ${l.selfMs.toFixed(0).padStart(6)} ms  ${l.name.padEnd(36)} ${l.where}`,
    );
  }
}
