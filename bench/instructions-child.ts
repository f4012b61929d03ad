// One process of the instruction-count benchmark (bench/instructions.ts runs it under valgrind's
// callgrind): a GawServer and a GawClient in this process, suite none, JSON, the tiny call
// `plus(1, 2)` at 64 in flight over one connection: 3,000 calls of warm-up, then `calls` calls,
// then exit. The parent runs it twice per variant with different `calls`, so start-up, warm-up and
// exit cancel out of the difference. A variant is one setting that a goal compares against another.
import { GawClient, GawServer } from '../src/index.js';
import { instructionVariants } from './instruction-variants.js';

class MathService {
  static serviceName = 'math';
  static entrypoints = ['plus'];
  plus(a: number, b: number): number {
    return a + b;
  }
}

const warmupCalls = 3_000;
const inFlight = 64;

async function run(client: GawClient, calls: number): Promise<void> {
  let started = 0;
  const caller = async (): Promise<void> => {
    while (started < calls) {
      started++;
      await client.call('math.plus', [1, 2]);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, caller));
}

async function main(name: string, calls: number): Promise<void> {
  const variant = instructionVariants[name];
  if (variant === undefined) throw new Error(`no instruction variant ${JSON.stringify(name)}`);
  const server = new GawServer({ ...variant.server, port: 0 }).add(MathService);
  await server.listen();
  const client = new GawClient({ retries: 0, ...variant.client, port: server.address.port });
  try {
    await run(client, warmupCalls);
    await run(client, calls);
  } finally {
    client.destroy();
    await server.close();
  }
}

const [name, callsText] = process.argv.slice(2);
if (name !== undefined) await main(name, Number(callsText));
