// What one `npm run bench` measures: every case (which server process, which load), the groups
// the report shows them in, and the issue's goals as ratios between cases of the same run.
// Pure data and arithmetic: running the cases is run.ts's job, printing them report.ts's.
import type { CodecName, SuiteName } from '../src/index.js';
import type { LoadSpec } from './clients.js';
import type { PayloadName } from './workload.js';

export interface ServerSpec {
  script: 'server-gaw' | 'server-peers';
  args: Record<string, unknown>;
}

export interface CaseDef {
  /** Unique, and what --filter matches (a substring). */
  id: string;
  group: GroupId;
  label: string;
  server: ServerSpec;
  load: LoadSpec;
  /** Key cases are repeated (median and spread reported); the others run once. */
  isKey: boolean;
}

export const groups = {
  inflight: 'Calls in flight (suite none, JSON): gaw against the bare framed JSON-RPC limit',
  suites: 'Suites and codecs (64 in flight, one connection)',
  peers: 'Peers (tiny call, 64 in flight, each with its stock client)',
  http: 'HTTP bridge (tiny call, 64 keep-alive connections)',
  setup: 'Connection set-up (16 at a time; dial, handshake, close)',
} as const;
export type GroupId = keyof typeof groups;

const suiteList: readonly SuiteName[] = ['none', 'sign', 'cbc', 'secretbox'];
const codecList: readonly CodecName[] = ['json', 'msgpack'];
const payloads: readonly PayloadName[] = ['tiny', '16k'];

function gawServer(suite: SuiteName, hasHttp = false): ServerSpec {
  return { script: 'server-gaw', args: { suite, ...(hasHttp && { hasHttp }) } };
}

function peerServer(kind: string): ServerSpec {
  return { script: 'server-peers', args: { kind } };
}

/** The id of a gaw TCP call case; the goals refer to cases by these ids. */
export function gawId(
  suite: SuiteName,
  codec: CodecName,
  payload: PayloadName,
  inFlight: number,
  poolSize = 1,
): string {
  return `gaw/${suite}/${codec}/${payload}/x${inFlight}${poolSize > 1 ? `/pool${poolSize}` : ''}`;
}

export function limitId(payload: PayloadName, inFlight: number): string {
  return `limit/${payload}/x${inFlight}`;
}

const keyIds = new Set<string>([
  limitId('tiny', 64),
  limitId('tiny', 1),
  limitId('16k', 64),
  gawId('none', 'json', 'tiny', 64),
  `${gawId('none', 'json', 'tiny', 64)}/ctx-off`,
  gawId('none', 'json', 'tiny', 1),
  gawId('none', 'json', '16k', 64),
  gawId('sign', 'json', 'tiny', 64),
  gawId('sign', 'json', '16k', 64),
  gawId('cbc', 'json', 'tiny', 64),
  gawId('cbc', 'json', '16k', 64),
  gawId('none', 'msgpack', 'tiny', 64),
  gawId('none', 'msgpack', '16k', 64),
  'http/gaw-bridge',
  'http/node-http',
  'http/fastify-gaw',
  'http/fastify',
]);

export function buildCases(): CaseDef[] {
  const cases: CaseDef[] = [];
  const add = (c: Omit<CaseDef, 'isKey'>) => cases.push({ ...c, isKey: keyIds.has(c.id) });
  for (const payload of payloads) {
    for (const [inFlight, poolSize] of [
      [1, 1],
      [64, 1],
      [256, 1],
      [256, 4],
    ] as const) {
      const where =
        poolSize > 1 ? `${inFlight} in flight, pool of ${poolSize}` : `${inFlight} in flight, one connection`;
      add({
        id: gawId('none', 'json', payload, inFlight, poolSize),
        group: 'inflight',
        label: `gaw, ${payload}, ${where}`,
        server: gawServer('none'),
        load: { kind: 'gaw', payload, inFlight, suite: 'none', codec: 'json', poolSize },
      });
      if (poolSize === 1) {
        add({
          id: limitId(payload, inFlight),
          group: 'inflight',
          label: `limit, ${payload}, ${where}`,
          server: peerServer('limit'),
          load: { kind: 'limit', payload, inFlight },
        });
      }
    }
  }
  add({
    id: `${gawId('none', 'json', 'tiny', 64)}/ctx-off`,
    group: 'inflight',
    label: 'gaw, tiny, 64 in flight, one connection, call-context extension off',
    server: gawServer('none'),
    load: { kind: 'gaw', payload: 'tiny', inFlight: 64, suite: 'none', codec: 'json', poolSize: 1, callContext: false },
  });
  for (const suite of suiteList) {
    for (const codec of codecList) {
      for (const payload of payloads) {
        if (suite === 'none' && codec === 'json') continue; // measured in the first group
        add({
          id: gawId(suite, codec, payload, 64),
          group: 'suites',
          label: `gaw ${suite}, ${codec}, ${payload}`,
          server: gawServer(suite),
          load: { kind: 'gaw', payload, inFlight: 64, suite, codec, poolSize: 1 },
        });
      }
    }
  }
  add({
    id: 'peer/jayson-tcp',
    group: 'peers',
    label: 'jayson TCP (stock client: a socket per call)',
    server: peerServer('jayson-tcp'),
    load: { kind: 'jayson-tcp', payload: 'tiny', inFlight: 64 },
  });
  add({
    id: 'peer/grpc',
    group: 'peers',
    label: '@grpc/grpc-js unary (one channel, JSON serializers)',
    server: peerServer('grpc'),
    load: { kind: 'grpc', payload: 'tiny', inFlight: 64 },
  });
  const httpLoad: LoadSpec = { kind: 'http', payload: 'tiny', inFlight: 64, connections: 64 };
  add({
    id: 'http/gaw-bridge',
    group: 'http',
    label: 'gaw HTTP bridge (POST /api)',
    server: gawServer('none', true),
    load: httpLoad,
  });
  add({
    id: 'http/node-http',
    group: 'http',
    label: 'minimal node:http JSON-RPC handler',
    server: peerServer('node-http'),
    load: httpLoad,
  });
  add({
    id: 'http/jayson-http',
    group: 'http',
    label: 'jayson HTTP server',
    server: peerServer('jayson-http'),
    load: httpLoad,
  });
  add({
    id: 'http/fastify-gaw',
    group: 'http',
    label: "gaw's httpHandler() mounted in Fastify",
    server: peerServer('fastify-gaw'),
    load: httpLoad,
  });
  add({
    id: 'http/fastify',
    group: 'http',
    label: 'minimal Fastify JSON-RPC route',
    server: peerServer('fastify'),
    load: httpLoad,
  });
  add({
    id: 'setup/tcp',
    group: 'setup',
    label: 'bare TCP connect + close (the limit)',
    server: peerServer('limit'),
    load: { kind: 'tcp-connect', payload: 'tiny', inFlight: 16 },
  });
  add({
    id: 'setup/none',
    group: 'setup',
    label: 'gaw suite none (hello exchange, no keys)',
    server: gawServer('none'),
    load: { kind: 'handshake', payload: 'tiny', inFlight: 16, suite: 'none', hasForwardSecrecy: false },
  });
  add({
    id: 'setup/sign',
    group: 'setup',
    label: 'gaw suite sign, PSK only (no forward secrecy)',
    server: gawServer('sign'),
    load: { kind: 'handshake', payload: 'tiny', inFlight: 16, suite: 'sign', hasForwardSecrecy: false },
  });
  add({
    id: 'setup/sign-fs',
    group: 'setup',
    label: 'gaw suite sign, X25519 forward secrecy (default)',
    server: gawServer('sign'),
    load: { kind: 'handshake', payload: 'tiny', inFlight: 16, suite: 'sign', hasForwardSecrecy: true },
  });
  add({
    id: 'setup/cbc-fs',
    group: 'setup',
    label: 'gaw suite cbc, X25519 forward secrecy (default)',
    server: gawServer('cbc'),
    load: { kind: 'handshake', payload: 'tiny', inFlight: 16, suite: 'cbc', hasForwardSecrecy: true },
  });
  return cases;
}

/** A goal of the issue: a ratio of two cases' medians (throughput, or p50 latency) against a bound. */
export interface Goal {
  name: string;
  numerator: string;
  denominator: string;
  metric: 'callsPerSecond' | 'p50Us';
  /** `min`: the ratio must be at least `bound`; `max`: at most. */
  kind: 'min' | 'max';
  bound: number;
}

export const goals: readonly Goal[] = [
  {
    name: 'tiny, 64 in flight: call-context extension on / off calls/s',
    numerator: gawId('none', 'json', 'tiny', 64),
    denominator: `${gawId('none', 'json', 'tiny', 64)}/ctx-off`,
    metric: 'callsPerSecond',
    kind: 'min',
    bound: 0.97,
  },
  {
    name: 'tiny, none, JSON, 64 in flight: gaw / limit calls/s',
    numerator: gawId('none', 'json', 'tiny', 64),
    denominator: limitId('tiny', 64),
    metric: 'callsPerSecond',
    kind: 'min',
    bound: 0.85,
  },
  {
    name: 'tiny, 1 in flight: gaw p50 / limit p50',
    numerator: gawId('none', 'json', 'tiny', 1),
    denominator: limitId('tiny', 1),
    metric: 'p50Us',
    kind: 'max',
    bound: 1.3,
  },
  {
    name: 'cbc / none, tiny, 64 in flight',
    numerator: gawId('cbc', 'json', 'tiny', 64),
    denominator: gawId('none', 'json', 'tiny', 64),
    metric: 'callsPerSecond',
    kind: 'min',
    bound: 0.5,
  },
  {
    name: 'cbc / none, 16 KiB, 64 in flight',
    numerator: gawId('cbc', 'json', '16k', 64),
    denominator: gawId('none', 'json', '16k', 64),
    metric: 'callsPerSecond',
    kind: 'min',
    bound: 0.6,
  },
  {
    name: 'sign / none, tiny, 64 in flight',
    numerator: gawId('sign', 'json', 'tiny', 64),
    denominator: gawId('none', 'json', 'tiny', 64),
    metric: 'callsPerSecond',
    kind: 'min',
    bound: 0.7,
  },
  {
    name: 'sign / none, 16 KiB, 64 in flight',
    numerator: gawId('sign', 'json', '16k', 64),
    denominator: gawId('none', 'json', '16k', 64),
    metric: 'callsPerSecond',
    kind: 'min',
    bound: 0.7,
  },
  {
    name: 'msgpack / JSON, 16 KiB (must be faster)',
    numerator: gawId('none', 'msgpack', '16k', 64),
    denominator: gawId('none', 'json', '16k', 64),
    metric: 'callsPerSecond',
    kind: 'min',
    bound: 1.0,
  },
  {
    name: 'msgpack / JSON, tiny (must not be slower)',
    numerator: gawId('none', 'msgpack', 'tiny', 64),
    denominator: gawId('none', 'json', 'tiny', 64),
    metric: 'callsPerSecond',
    kind: 'min',
    bound: 1.0,
  },
  {
    name: 'HTTP bridge / minimal node:http handler',
    numerator: 'http/gaw-bridge',
    denominator: 'http/node-http',
    metric: 'callsPerSecond',
    kind: 'min',
    bound: 0.9,
  },
  {
    name: 'gaw handler in Fastify / minimal Fastify route',
    numerator: 'http/fastify-gaw',
    denominator: 'http/fastify',
    metric: 'callsPerSecond',
    kind: 'min',
    bound: 0.95,
  },
];

/** The memory case's goal: server memory growth per idle authenticated connection. */
export const memoryGoalBytes = 64 * 1024;

/** Whether `ratio` meets `goal`. */
export function meets(goal: Goal, ratio: number): boolean {
  return goal.kind === 'min' ? ratio >= goal.bound : ratio <= goal.bound;
}
