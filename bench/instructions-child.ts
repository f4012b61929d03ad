// One process of the instruction-count benchmark (bench/instructions.ts runs it under valgrind's
// callgrind): a GawServer and a GawClient in this process, suite none, JSON, the tiny call
// `plus(1, 2)` at 64 in flight over one connection: 3,000 calls of warm-up, then `calls` calls,
// then exit. The parent runs it twice per variant with different `calls`, so start-up, warm-up and
// exit cancel out of the difference. A variant is one setting that a goal compares against another.
import type { AddressInfo } from 'node:net';
import { GawClient, GawServer } from '../src/index.js';
import type { GawServerOptions } from '../src/index.js';
import { instructionVariants } from './instruction-variants.js';
import type { InstructionVariant } from './instruction-variants.js';
import { createLimitServer, LimitClient } from './limit-wire.js';
import { openPeer } from './instruction-peers.js';

class MathService {
  static serviceName = 'math';
  static entrypoints = ['plus'];
  plus(a: number, b: number): number {
    return a + b;
  }
}

const warmupCalls = 3_000;
const inFlight = 64;

type Call = () => Promise<unknown>;

async function run(call: Call, calls: number): Promise<void> {
  let started = 0;
  const caller = async (): Promise<void> => {
    while (started < calls) {
      started++;
      if ((await call()) !== 3) throw new Error('wrong result');
    }
  };
  await Promise.all(Array.from({ length: inFlight }, caller));
}

/** A server and a client in this process, the call to run, and how to stop both. */
async function open(variant: InstructionVariant): Promise<{ call: Call; stop(): Promise<void> }> {
  if (variant.peer !== undefined) return openPeer(variant.peer);
  if (variant.isLimit === true) {
    const server = createLimitServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = await LimitClient.open((server.address() as AddressInfo).port);
    return {
      call: () => client.call('bench.plus', [1, 2]),
      stop: async () => {
        client.close();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }
  const traced = variant.tracing === undefined ? undefined : await tracingFor(variant.tracing);
  const tracing = traced?.tracing;
  const server = new GawServer({ ...variant.server, ...(tracing && { tracing }), port: 0 }).add(MathService);
  await server.listen();
  const client = new GawClient({
    retries: 0,
    ...variant.client,
    ...(tracing && { tracing }),
    port: server.address.port,
  });
  let calls = 0;
  return {
    call:
      traced?.exporter === undefined
        ? () => client.call('math.plus', [1, 2])
        : () => {
            if (++calls % 1024 === 0) traced.exporter?.reset();
            return client.call('math.plus', [1, 2]);
          },
    stop: async () => {
      client.destroy();
      await server.close();
    },
  };
}

/** The `tracing` option of a tracing variant, and the in-memory exporter its spans go to. */
async function tracingFor(
  kind: 'no-sdk' | 'sdk' | 'sdk-als',
): Promise<{ tracing: GawServerOptions['tracing']; exporter?: { reset(): void } }> {
  if (kind === 'no-sdk') return { tracing: true };
  const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import(
    '@opentelemetry/sdk-trace-base'
  );
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  if (kind === 'sdk-als') {
    const { context } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  }
  return { tracing: { tracerProvider }, exporter };
}

async function main(name: string, calls: number): Promise<void> {
  const variant = instructionVariants[name];
  if (variant === undefined) throw new Error(`no instruction variant ${JSON.stringify(name)}`);
  const { call, stop } = await open(variant);
  try {
    await run(call, warmupCalls);
    await run(call, calls);
  } finally {
    await stop();
  }
}

const [name, callsText] = process.argv.slice(2);
if (name !== undefined) await main(name, Number(callsText));
