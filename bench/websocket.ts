// Wall clock for issue 19: tiny calls, 64 in flight on one socket, over the HTTP bridge's WebSocket
// endpoint against a minimal `ws` JSON-RPC echo server, and against the same bridge's POST /api
// (64 keep-alive connections). Client and server of each pair run in this process with the same
// client code (bench/instruction-peers.ts, also what the instruction counts use), so the two sides
// share the core alike; rounds alternate the order. Ratios are of medians from the same run.
import { closedLoop, median, spread } from './harness.js';
import { openPeer } from './instruction-peers.js';

const peers = ['ws-gaw', 'ws-echo', 'post-gaw'] as const;
type Peer = (typeof peers)[number];

const labels: Record<Peer, string> = {
  'ws-gaw': 'gaw bridge, WebSocket /api',
  'ws-echo': 'minimal ws JSON-RPC echo server',
  'post-gaw': 'gaw bridge, POST /api (64 keep-alive connections)',
};

export interface WebSocketBenchOptions {
  rounds?: number;
  warmupMs?: number;
  durationMs?: number;
  log?: (line: string) => void;
}

/** Runs the pairs `rounds` times; returns the markdown section. */
export async function runWebSocketBench(options: WebSocketBenchOptions = {}): Promise<string> {
  const rounds = options.rounds ?? 3;
  const warmupMs = options.warmupMs ?? 1_000;
  const durationMs = options.durationMs ?? 3_000;
  const rates = new Map<Peer, number[]>(peers.map((peer) => [peer, []]));
  const cpu = new Map<Peer, number[]>(peers.map((peer) => [peer, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? peers : [...peers].reverse();
    for (const peer of order) {
      const { call, stop } = await openPeer(peer);
      try {
        const result = await closedLoop(call, { inFlight: 64, warmupMs, durationMs });
        if (result.errors > 0) throw new Error(`${peer}: ${result.errors} calls failed (${result.firstError})`);
        rates.get(peer)!.push(result.callsPerSecond);
        cpu.get(peer)!.push(result.cpuUsPerCall);
        options.log?.(`  websocket round ${round + 1}: ${peer} ${Math.round(result.callsPerSecond)} calls/s`);
      } finally {
        await stop();
      }
    }
  }
  const rate = (peer: Peer) => median(rates.get(peer)!);
  const cpuPerCall = (peer: Peer) => median(cpu.get(peer)!);
  const lines = [
    `${rounds} rounds of ${durationMs} ms (after ${warmupMs} ms of warm-up) per pair, 64 calls in flight, \`plus(1, 2)\`; client and server in this process.`,
    '',
    '| pair | calls/s (median) | spread | CPU µs per call (both sides) |',
    '| --- | --- | --- | --- |',
    ...peers.map(
      (peer) =>
        `| ${labels[peer]} | ${Math.round(rate(peer)).toLocaleString('en-US')} | ${(spread(rates.get(peer)!) * 100).toFixed(0)}% | ${cpuPerCall(peer).toFixed(1)} |`,
    ),
    '',
    '| issue | goal | ratio | met |',
    '| --- | --- | --- | --- |',
  ];
  const goal = rate('ws-gaw') / rate('ws-echo');
  lines.push(`| #19 | WebSocket / ws echo >= 0.90 | ${goal.toFixed(2)} | ${goal >= 0.9 ? 'yes' : 'no'} |`);
  const post = rate('ws-gaw') / rate('post-gaw');
  lines.push(`| #19 | WebSocket / POST (no goal, for comparison) | ${post.toFixed(2)} | - |`);
  return lines.join('\n');
}
