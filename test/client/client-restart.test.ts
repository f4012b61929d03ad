// A server stopped in the middle of a load and started again on the same port, with executions
// counted on the server: every idempotent call completes, and a non-idempotent call either
// completes having run once or fails with a clear error having run at most once. Never twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawClient } from '../../src/client/index.js';
import { type GawServer, entrypoint } from '../../src/server/index.js';
import { ConnectionError, GawError } from '../../src/errors.js';
import { startServer, within } from '../helpers/server-fixtures.js';

const executions = new Map<string, number>();

function count(key: string): void {
  executions.set(key, (executions.get(key) ?? 0) + 1);
}

class LedgerService {
  static serviceName = 'ledger';
  readonly #label: string;
  constructor(label: string) {
    this.#label = label;
  }
  /** Not idempotent: running it twice would record twice. */
  @entrypoint async record(key: string, delayMs: number): Promise<string> {
    count(`record ${key}`);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return `${this.#label}:${key}`;
  }
  /** Declared idempotent by the client: safe to run again. */
  @entrypoint async read(key: string, delayMs: number): Promise<string> {
    count(`read ${key}`);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return `${this.#label}:${key}`;
  }
}

interface Sent {
  kind: 'record' | 'read';
  key: string;
  promise: Promise<string>;
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

async function restartMidLoad(name: string, closeTimeoutMs: number): Promise<void> {
  executions.clear();
  const first = await startServer({ closeTimeoutMs }, [LedgerService, 'first']);
  const { port } = first.address;
  const client = new GawClient({
    port,
    retries: -1,
    timeoutMs: 20_000,
    baseDelayMs: 2,
    maxDelayMs: 40,
    idempotent: ['ledger.read'],
  });
  let second: GawServer | undefined;
  const sent: Sent[] = [];
  try {
    const wave = (w: number): void => {
      for (let i = 0; i < 40; i++) {
        const kind = i % 2 === 0 ? 'record' : 'read';
        const key = `${name}-${w}-${i}`;
        const promise = client.call<string>(`ledger.${kind}`, [key, (i % 4) * 3]);
        promise.catch(() => {}); // looked at once everything has settled
        sent.push({ kind, key, promise });
      }
    };
    for (let w = 0; w < 10; w++) {
      wave(w);
      await tick();
    }
    const closing = first.close();
    for (let w = 10; w < 15; w++) {
      wave(w);
      await tick();
    }
    await within(closing, 10_000, 'the first server closing');
    for (let w = 15; w < 20; w++) {
      wave(w);
      await tick();
    }
    second = await startServer({ port }, [LedgerService, 'second']);
    for (let w = 20; w < 30; w++) {
      wave(w);
      await tick();
    }
    const outcomes = await within(Promise.allSettled(sent.map((s) => s.promise)), 20_000, 'every call settling');
    const servedBy = { first: 0, second: 0 };
    for (const [i, outcome] of outcomes.entries()) {
      const { kind, key } = sent[i]!;
      const runs = executions.get(`${kind} ${key}`) ?? 0;
      if (outcome.status === 'fulfilled') {
        const [label, echoed] = outcome.value.split(':');
        assert.equal(echoed, key);
        servedBy[label as 'first' | 'second']++;
        if (kind === 'record') assert.equal(runs, 1, `${key} completed and ran exactly once`);
        else assert.ok(runs >= 1);
      } else {
        assert.equal(kind, 'record', `the idempotent ${key} failed: ${String(outcome.reason)}`);
        const err = outcome.reason as GawError;
        assert.ok(err instanceof GawError, String(err));
        assert.match(err.code, /^GAW_ERR_/);
        assert.ok(err.message.length > 0);
        if (err instanceof ConnectionError)
          assert.equal(err.mayHaveReachedServer, true, 'only a call that may have run is given up on');
        assert.ok(runs <= 1, `${key} failed and ran ${runs} times`);
      }
      if (kind === 'record') assert.ok(runs <= 1, `the non-idempotent ${key} ran ${runs} times`);
    }
    const cutOff =
      outcomes.filter((o) => o.status === 'rejected').length + [...executions.values()].filter((n) => n > 1).length;
    // With a 1 ms deadline how many calls get cut off depends on scheduling; the per-call checks
    // above are the property. A graceful close must lose nothing.
    if (closeTimeoutMs >= 10) assert.equal(cutOff, 0, 'a graceful close loses nothing and runs nothing again');
    assert.ok(servedBy.first > 0 && servedBy.second > 0, `both servers served calls: ${JSON.stringify(servedBy)}`);
    assert.equal(client.pendingCount, 0);
  } finally {
    client.destroy();
    await first.close();
    await second?.close();
  }
}

test('a server closed gracefully mid-load and restarted on its port: idempotent calls all complete, nothing runs twice', () =>
  restartMidLoad('graceful', 10_000));

test('a server whose close deadline cuts calls off mid-load: idempotent calls all complete, nothing runs twice', () =>
  restartMidLoad('abrupt', 1));
