// Child process: the load generator. Either runs one closed-loop case against a server (warm-up,
// then a measured window) and reports the result, or opens many idle authenticated connections
// and holds them until told to stop (the memory case). Started by run.ts; never run by hand.
import type { SuiteName } from '../src/index.js';
import { KeyRing } from '../src/index.js';
import { dial } from '../src/postoffice/index.js';
import type { Connection } from '../src/postoffice/index.js';
import { benchSecret, childArgs, listenToParent, tell } from './child.js';
import { openClient } from './clients.js';
import type { LoadSpec } from './clients.js';
import { closedLoop } from './harness.js';

export type LoadArgs =
  | { mode: 'loop'; port: number; spec: LoadSpec; warmupMs: number; durationMs: number }
  | { mode: 'idle'; port: number; suite: SuiteName; count: number; concurrency: number };

const args = childArgs<LoadArgs>();
/** The idle case's connections, destroyed when the parent says stop. */
const held: Connection[] = [];
listenToParent({}, () => {
  for (const connection of held) connection.destroy();
});

async function runLoop(a: Extract<LoadArgs, { mode: 'loop' }>): Promise<void> {
  const client = await openClient(a.spec, a.port);
  let i = 0;
  const result = await closedLoop(() => client.call(i++), {
    inFlight: a.spec.inFlight,
    warmupMs: a.warmupMs,
    durationMs: a.durationMs,
    onWindow: (phase) => tell({ type: 'window', phase }),
  });
  await client.close();
  tell({ type: 'result', result });
}

/** Opens `count` connections, `concurrency` handshakes at a time (under the server's unauthenticated cap). */
async function holdIdle(a: Extract<LoadArgs, { mode: 'idle' }>): Promise<void> {
  const psk = a.suite === 'none' ? undefined : new KeyRing(benchSecret()).get(0);
  const startMs = performance.now();
  let next = 0;
  let failure: string | undefined;
  const opener = async () => {
    while (next < a.count && failure === undefined) {
      next++;
      try {
        held.push(await dial({ host: '127.0.0.1', port: a.port, suite: a.suite, psk, idleTimeoutMs: 0 }));
      } catch (err) {
        failure = err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: a.concurrency }, opener));
  tell({
    type: 'opened',
    count: held.length,
    seconds: (performance.now() - startMs) / 1000,
    ...(failure !== undefined && { failure }),
  });
}

try {
  if (args.mode === 'loop') {
    await runLoop(args);
  } else {
    await holdIdle(args);
  }
} catch (err) {
  tell({ type: 'result', error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
}
