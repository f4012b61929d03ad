// Benchmark of the serializable codecs on the hot path of every RPC call: encode + decode + revive
// of a small JSON-RPC reply carrying a registered class, against plain JSON.stringify / JSON.parse
// of the same wire data. Run: `node dist/bench/serializable.js`; `run()` returns a markdown table.
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Packr, Unpackr } from 'msgpackr';
import { Registry, createCodec } from '../src/serializable/index.js';

class MathResult {
  constructor(
    public header = '',
    public result = 0,
  ) {}
}

interface Case {
  name: string;
  roundTrip(): unknown;
}

function measureNs(fn: () => unknown, iterations: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / iterations;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Runs cases in interleaved rounds; returns the median ns per round trip of each. */
async function measure(cases: Case[], rounds: number, iterations: number): Promise<number[]> {
  const samples = cases.map(() => [] as number[]);
  for (const c of cases) measureNs(c.roundTrip, iterations); // warm up
  for (let r = 0; r < rounds; r++) {
    for (const [i, c] of cases.entries()) samples[i]!.push(measureNs(c.roundTrip, iterations));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return samples.map(median);
}

function table(cases: Case[], ns: number[]): string[] {
  const [plainStrings, plainBuffers] = [ns[0]!, ns[1]!];
  return [
    '| case | ns / round trip | round trips / s | vs plain JSON (strings) | vs plain JSON (Buffers) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...cases.map((c, i) => {
      const t = ns[i]!;
      return `| ${c.name} | ${t.toFixed(0)} | ${Math.round(1e9 / t).toLocaleString('en-US')} | ${(t / plainStrings).toFixed(2)}x | ${(t / plainBuffers).toFixed(2)}x |`;
    }),
  ];
}

/** Both scenarios as a markdown report: a small reply with a registered class, and one carrying 1 KiB of bytes. */
export async function run(options: { rounds?: number; iterations?: number } = {}): Promise<string> {
  const rounds = options.rounds ?? 9;
  const iterations = options.iterations ?? 50_000;
  const registry = new Registry().register(MathResult, { tag: 'MathResult' });
  const json = createCodec('json', { registry });
  const msgpack = createCodec('msgpack', { registry });
  const rawPackr = new Packr({ useRecords: false, structuredClone: false, moreTypes: false });
  const rawUnpackr = new Unpackr({ useRecords: false, structuredClone: false, moreTypes: false, mapsAsObjects: true });
  const out: string[] = [];
  const payload = Buffer.alloc(1024, 0x5a);
  const scenarios = [
    { title: 'small reply', reply: { jsonrpc: '2.0', id: 1, result: new MathResult('hello!', 200) } },
    {
      title: 'reply carrying 1 KiB of bytes',
      reply: { jsonrpc: '2.0', id: 1, result: new MathResult('hello!', payload as unknown as number) },
    },
  ];
  for (const { title, reply } of scenarios) {
    for (const codec of [json, msgpack]) {
      const back = codec.revive(codec.decode(codec.encode(reply))) as typeof reply;
      if (!(back.result instanceof MathResult) || JSON.stringify(back.result) !== JSON.stringify(reply.result)) {
        throw new Error(`${codec.name} round trip is wrong`);
      }
    }
    // The plain baseline moves the very same wire data (bytes as base64 text, as JSON must).
    const wire = registry.encode(reply);
    const binaryWire = registry.encode(reply, { binaryBytes: true });
    const cases: Case[] = [
      { name: 'plain JSON.stringify + JSON.parse (strings)', roundTrip: () => JSON.parse(JSON.stringify(wire)) },
      {
        name: 'plain JSON via Buffer (stringify, Buffer.from, toString, parse)',
        roundTrip: () => JSON.parse(Buffer.from(JSON.stringify(wire)).toString()),
      },
      {
        name: 'gaw json codec: encode + decode + revive',
        roundTrip: () => json.revive(json.decode(json.encode(reply))),
      },
      {
        name: 'gaw msgpack codec: encode + decode + revive',
        roundTrip: () => msgpack.revive(msgpack.decode(msgpack.encode(reply))),
      },
      {
        name: 'raw msgpackr pack + unpack of the same wire data (reference)',
        roundTrip: () => rawUnpackr.unpack(rawPackr.pack(binaryWire)),
      },
    ];
    const ns = await measure(cases, rounds, iterations);
    out.push(
      `### ${title}: ${json.encode(reply).length} B as json, ${msgpack.encode(reply).length} B as msgpack`,
      '',
      ...table(cases, ns),
      '',
    );
  }
  out.push(
    `Median of ${rounds} interleaved rounds of ${iterations} round trips each; Node ${process.version}, ${os.cpus().length} cores.`,
  );
  return out.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await run());
}
