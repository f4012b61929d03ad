// The target of the hostile suite: a real GawServer hosting VictimService, whose handlers count
// every execution, plus the after-attack checks (still serving, nothing ran, no secret or stack in
// what came back, memory bounded) and a bystander client that keeps calling during an attack.
// Raw peers that speak GAWP by hand live in authed-peer.ts and ../../helpers/.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { GawClient } from '../../../src/client/index.js';
import { entrypoint } from '../../../src/server/index.js';
import type { GawServer, GawServerOptions } from '../../../src/server/index.js';
import { parseSecret } from '../../../src/postoffice/index.js';
import type { SuiteName } from '../../../src/postoffice/index.js';
import { ServiceError } from '../../../src/errors.js';
import { Arrivals, Gate, capturingLogger, makeSecret, startServer } from '../../helpers/server-fixtures.js';
import type { LogLine } from '../../helpers/server-fixtures.js';

/** Executions per method since the last reset; `legit` is the bystander's and checkServes' method. */
export const executions = new Map<string, number>();

function ran(method: string): void {
  executions.set(method, (executions.get(method) ?? 0) + 1);
}

/** Executions of every method except `legit`: what an attack made run. */
export function attackExecutions(): number {
  let total = 0;
  for (const [method, count] of executions) if (method !== 'legit') total += count;
  return total;
}

/** What `victim.wait` handlers wait on (open until `holdWaits` closes it), who has arrived and who has returned. */
let waitGate = new Gate();
waitGate.open();
let waitArrivals = new Arrivals(0);
let waitReturns = new Arrivals(0);

/**
 * Makes the next `victim.wait` calls block until the returned gate opens: `arrivals.all` once
 * `count` have started, `returned.all` once `count` have returned their result.
 */
export function holdWaits(count: number): { gate: Gate; arrivals: Arrivals; returned: Arrivals } {
  waitGate = new Gate();
  waitArrivals = new Arrivals(count);
  waitReturns = new Arrivals(count);
  return { gate: waitGate, arrivals: waitArrivals, returned: waitReturns };
}

/** The values `victim.throws(kind)` throws: everything but a plain Error. */
export const thrownValues: Record<string, () => unknown> = {
  string: () => 'a bare string',
  number: () => 42,
  null: () => null,
  undefined: () => undefined,
  symbol: () => Symbol('thrown'),
  bigint: () => 10n ** 30n,
  function: () => () => 1,
  object: () => ({ reason: 'a plain object', nested: { deep: true } }),
  errorLike: () => ({ name: 'Fake', message: 'an error-like object' }),
  hostileGetters: () =>
    Object.defineProperty(new Error('x'), 'message', {
      get() {
        throw new Error('getter bomb');
      },
    }),
  proxy: () =>
    new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('trap bomb');
        },
        get() {
          throw new Error('trap bomb');
        },
      },
    ),
  hugeMessage: () => new Error('m'.repeat(1_000_000)),
  frozenStackless: () => Object.freeze(Object.assign(Object.create(Error.prototype) as Error, { message: 'no stack' })),
  serviceError: () => new ServiceError(4001, 'a chosen error', { hint: 'fine' }),
};

export class VictimService {
  static serviceName = 'victim';

  @entrypoint legit(n: number): number {
    ran('legit');
    return n + 1;
  }

  @entrypoint add(a: number, b: number): number {
    ran('add');
    return a + b;
  }

  @entrypoint echo(value: unknown): unknown {
    ran('echo');
    return value;
  }

  /** Copies an object's own keys onto a fresh object, as naive service code might. */
  @entrypoint merge(source: Record<string, unknown>): Record<string, unknown> {
    ran('merge');
    const target: Record<string, unknown> = {};
    for (const key of Object.keys(source)) target[key] = source[key];
    return target;
  }

  /** A reply of n bytes of text (n at most 1 MiB), for backpressure attacks. */
  @entrypoint pad(n: number): string {
    ran('pad');
    return 'x'.repeat(Math.min(Math.max(0, n | 0), 1 << 20));
  }

  @entrypoint spread(...values: unknown[]): number {
    ran('spread');
    return values.length;
  }

  @entrypoint async wait(n: number): Promise<number> {
    ran('wait');
    const returns = waitReturns;
    waitArrivals.arrive();
    await waitGate.promise;
    returns.arrive();
    return n;
  }

  @entrypoint never(): Promise<never> {
    ran('never');
    return new Promise(() => {});
  }

  @entrypoint throws(kind: string): never {
    ran('throws');
    const make = Object.hasOwn(thrownValues, kind) ? thrownValues[kind]! : thrownValues.string!;
    throw make();
  }

  @entrypoint async rejects(kind: string): Promise<never> {
    ran('rejects');
    await null;
    const make = Object.hasOwn(thrownValues, kind) ? thrownValues[kind]! : thrownValues.string!;
    throw make();
  }

  /** Returns something that cannot be encoded: a function, a cycle, a throwing getter. */
  @entrypoint unencodable(kind: string): unknown {
    ran('unencodable');
    if (kind === 'cycle') {
      const a: Record<string, unknown> = {};
      a.self = a;
      return a;
    }
    if (kind === 'getter')
      return {
        get bomb() {
          throw new Error('getter bomb');
        },
      };
    return () => 1;
  }
}

export interface Victim {
  server: GawServer;
  port: number;
  secret: string;
  psk: Buffer;
  suite: SuiteName;
  logs: LogLine[];
  /** Run by close() before the server closes: tests register peers to destroy here. */
  cleanups: (() => void)[];
  close(): Promise<void>;
}

/**
 * A GawServer hosting VictimService on 127.0.0.1 port 0 with a fresh secret (suite sign unless
 * `encrypt` or `suite` say otherwise; `secret: undefined` for suite none), logging to memory (`logs`)
 * unless `options.logger` is given.
 * Resets the execution counts.
 */
export async function startVictim(options: GawServerOptions = {}): Promise<Victim> {
  executions.clear();
  const hasSecret = !('secret' in options) || options.secret !== undefined;
  const secret = typeof options.secret === 'string' ? options.secret : makeSecret();
  const logger = capturingLogger();
  const server = await startServer(
    { closeTimeoutMs: 2_000, logger, ...options, ...(hasSecret ? { secret } : {}) },
    VictimService,
  );
  const victim: Victim = {
    server,
    port: server.address.port,
    secret,
    psk: parseSecret(secret),
    suite: server.suite,
    logs: logger.lines,
    cleanups: [],
    close: () => {
      for (const cleanup of victim.cleanups.splice(0)) cleanup();
      return server.close();
    },
  };
  return victim;
}

/** Client options that reach `victim` honestly. */
export function honestClient(victim: Victim, extra: Record<string, unknown> = {}): GawClient {
  return new GawClient({
    port: victim.port,
    ...(victim.suite === 'none' ? {} : { secret: victim.secret, suite: victim.suite }),
    retries: 0,
    timeoutMs: 5_000,
    ...extra,
  });
}

/** A fresh honest client connects, gets an answer and leaves: the server is up and serving. */
export async function checkServes(victim: Victim): Promise<void> {
  const client = honestClient(victim);
  try {
    assert.equal(await client.call('victim.legit', [41]), 42, 'an honest client is still served');
  } finally {
    client.destroy();
  }
}

/**
 * After an attack: no handler but `legit` ran, the server log holds neither the secret nor a stack
 * trace, and a fresh honest client is still served.
 */
export async function assertUnharmed(victim: Victim): Promise<void> {
  assert.equal(attackExecutions(), 0, 'no handler ran for the attack');
  assertNoLeak(logText(victim.logs), victim, 'the server log');
  await checkServes(victim);
}

/**
 * Asserts that text that came back from the server (reply bytes, error messages) or went to its
 * log holds neither the secret (base64 or hex) nor a stack trace.
 */
export function assertNoLeak(text: string, victim: Pick<Victim, 'secret' | 'psk'>, what = 'the reply'): void {
  assert.ok(!text.includes(victim.secret), `${what} contains the secret`);
  assert.ok(!text.includes(victim.psk.toString('hex')), `${what} contains the secret as hex`);
  assert.ok(!text.includes(victim.psk.toString('latin1')), `${what} contains the secret's raw bytes`);
  assert.ok(!/\n\s+at /.test(text) && !text.includes('    at '), `${what} contains a stack trace`);
}

/** Every log line as one JSON text (errors flattened to name and message), for leak checks. */
export function logText(logs: readonly LogLine[]): string {
  const flatten = (_key: string, value: unknown): unknown => {
    if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') return String(value);
    if (!(value instanceof Error)) return value;
    try {
      return { name: value.name, message: value.message };
    } catch {
      return '(an error whose getters throw)';
    }
  };
  return logs
    .map((line) => {
      try {
        return JSON.stringify({ level: line.level, msg: line.msg, obj: line.obj }, flatten);
      } catch {
        return JSON.stringify({ level: line.level, msg: line.msg });
      }
    })
    .join('\n');
}

/** Memory now: what a bound is checked against. */
export function memoryNow(): NodeJS.MemoryUsage {
  return process.memoryUsage();
}

/** Asserts that external buffers and RSS grew by less than `boundBytes` since `before`. */
export function assertMemoryBounded(before: NodeJS.MemoryUsage, boundBytes: number, what: string): void {
  const after = process.memoryUsage();
  const grewBuffers = after.arrayBuffers - before.arrayBuffers;
  const grewRss = after.rss - before.rss;
  assert.ok(grewBuffers < boundBytes, `${what}: buffers grew by ${grewBuffers} bytes (bound ${boundBytes})`);
  assert.ok(grewRss < boundBytes, `${what}: RSS grew by ${grewRss} bytes (bound ${boundBytes})`);
}

/** An honest client that calls `victim.legit` in a loop until stopped, recording every failure. */
export class Bystander {
  readonly #client: GawClient;
  #isStopped = false;
  #loop: Promise<void> | undefined;
  served = 0;
  readonly failures: unknown[] = [];

  constructor(victim: Victim) {
    this.#client = honestClient(victim, { poolSize: 1 });
  }

  /** Starts calling; resolves after the first answer, so the bystander is connected before an attack. */
  async start(): Promise<void> {
    assert.equal(await this.#client.call('victim.legit', [0]), 1);
    this.served++;
    this.#loop = (async () => {
      for (let n = 1; !this.#isStopped; n++) {
        try {
          assert.equal(await this.#client.call('victim.legit', [n]), n + 1);
          this.served++;
          // Paced, so the bystander measures service without taking a core from the attack.
          await delay(2);
        } catch (err) {
          this.failures.push(err);
        }
      }
    })();
  }

  /** Stops, closes the client and asserts it was served throughout with no failure. */
  async stop(atLeast = 1): Promise<void> {
    this.#isStopped = true;
    await this.#loop;
    this.#client.destroy();
    assert.deepEqual(this.failures, [], 'the bystander saw no failure');
    assert.ok(this.served >= atLeast, `the bystander was served ${this.served} times (at least ${atLeast} expected)`);
  }
}
