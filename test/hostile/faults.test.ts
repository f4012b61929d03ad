// Faults: a server process SIGKILLed mid-load and restarted on the same port (the client recovers
// by itself, idempotent calls all complete, non-idempotent ones run at most once, counted by the
// server in a file that survives the kill), a server closed gracefully under load (calls in flight
// finish), and a client whose pool loses every connection at once (reset by a proxy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GawClient } from '../../src/client/index.js';
import { ConnectionError, GawError } from '../../src/errors.js';
import { makeSecret, within, until } from '../helpers/server-fixtures.js';
import { readCounts, startChildVictim } from './helpers/child-server.js';
import { TcpProxy } from './helpers/proxy.js';
import { Bystander, executions, holdWaits, honestClient, startVictim } from './helpers/victim.js';

const timeout = 60_000;

type Outcome = { ok: true } | { ok: false; err: unknown };

test('a server SIGKILLed mid-load and restarted on the same port: the client recovers by itself, idempotent calls all complete, non-idempotent ones ran at most once', {
  timeout,
}, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gaw-hostile-'));
  const countFile = path.join(dir, 'counts');
  writeFileSync(countFile, '');
  const secret = makeSecret();
  let child = await startChildVictim(0, countFile, secret);
  const port = child.port;
  const client = new GawClient({
    port,
    secret,
    encrypt: true,
    retries: -1,
    timeoutMs: 20_000,
    baseDelayMs: 10,
    maxDelayMs: 100,
    poolSize: 2,
    idempotent: ['counter.idem'],
  });
  const outcomes = new Map<string, Outcome>();
  let completed = 0;
  try {
    const workers = Array.from({ length: 8 }, async (_, worker) => {
      for (let i = 0; i < 60; i++) {
        const method = i % 2 === 0 ? 'idem' : 'once';
        const key = `${worker}-${i}`;
        try {
          assert.equal(await client.call(`counter.${method}`, [key]), key);
          outcomes.set(`${method} ${key}`, { ok: true });
        } catch (err) {
          outcomes.set(`${method} ${key}`, { ok: false, err });
        }
        completed++;
      }
    });
    await until(() => completed >= 100, 'a hundred calls completing before the kill', 15_000);
    await child.kill();
    const completedAtKill = completed;
    child = await startChildVictim(port, countFile, secret);
    await within(Promise.all(workers), 40_000, 'every worker finishing');
    assert.ok(completedAtKill < 480, 'the kill came mid-load');

    const counts = readCounts(readFileSync(countFile, 'utf8'));
    let onceFailures = 0;
    let idemReruns = 0;
    for (const [call, outcome] of outcomes) {
      const runs = counts.get(call) ?? 0;
      if (call.startsWith('idem ')) {
        assert.ok(outcome.ok, `${call} completed (${outcome.ok ? '' : String((outcome as { err: unknown }).err)})`);
        assert.ok(runs >= 1, `${call} ran`);
        if (runs > 1) idemReruns++;
        continue;
      }
      assert.ok(runs <= 1, `${call} ran ${runs} times`);
      if (outcome.ok) {
        assert.equal(runs, 1, `${call} succeeded, so it ran once`);
      } else {
        onceFailures++;
        // Only a call that may have reached the server may fail: a refused one is retried, never lost.
        assert.ok(
          outcome.err instanceof ConnectionError && outcome.err.mayHaveReachedServer,
          `${call} failed with ${String(outcome.err)} although it could have been retried`,
        );
      }
    }
    assert.equal(outcomes.size, 480);
    t.diagnostic(
      `killed after ${completedAtKill} of 480 calls; ${onceFailures} non-idempotent calls failed as possibly run; ${idemReruns} idempotent calls ran twice`,
    );
    assert.ok(
      onceFailures <= 16,
      `${onceFailures} non-idempotent calls were in flight at the kill (at most 16 can be: 8 workers, 2 connections)`,
    );
    assert.equal(await client.call('counter.once', ['after']), 'after', 'the same client works after the restart');
  } finally {
    client.destroy();
    await child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a server closed gracefully under load lets every call in flight finish, then refuses new ones with a clear error', {
  timeout,
}, async () => {
  const victim = await startVictim({ encrypt: true, closeTimeoutMs: 5_000 });
  const client = honestClient(victim, { poolSize: 4, busyThreshold: 4 });
  try {
    const { gate, arrivals } = holdWaits(40);
    const inFlight = Array.from({ length: 40 }, (_, n) => client.call('victim.wait', [n]));
    await within(arrivals.all, 5_000, 'forty handlers starting');
    const closing = victim.server.close();
    // New calls made while the server drains are refused (never run), not lost in silence.
    const late = await client.call('victim.legit', [1]).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(late instanceof GawError, `a call during the drain fails cleanly (${String(late)})`);
    gate.open();
    assert.deepEqual(
      await within(Promise.all(inFlight), 5_000, 'the calls in flight finishing'),
      Array.from({ length: 40 }, (_, n) => n),
    );
    await within(closing, 5_000, 'close() resolving once drained');
    assert.equal(executions.get('wait'), 40);
    assert.equal(executions.get('legit') ?? 0, 0, 'the late call never ran');
  } finally {
    client.destroy();
    await victim.close();
  }
});

test('a client whose pool loses every connection at once: in-flight calls fail or retry by the rules, and new calls are served on fresh connections', {
  timeout,
}, async () => {
  const victim = await startVictim({ encrypt: true });
  const proxy = await TcpProxy.start(victim.port);
  const bystander = new Bystander(victim);
  const client = new GawClient({
    port: proxy.port,
    secret: victim.secret,
    encrypt: true,
    poolSize: 4,
    busyThreshold: 1,
    retries: 3,
    timeoutMs: 10_000,
  });
  try {
    await bystander.start();
    // Fill the pool: four connections.
    await Promise.all(Array.from({ length: 8 }, (_, n) => client.call('victim.legit', [n])));
    await until(() => client.connectionCount === 4, 'four pooled connections');
    const { gate, arrivals } = holdWaits(8);
    const plain = [0, 1, 2, 3].map((n) => client.call('victim.wait', [n]));
    // Handled from the start: the cut rejects them in whatever order the connections close.
    for (const call of plain) call.catch(() => {});
    const idempotent = [4, 5, 6, 7].map((n) => client.call('victim.wait', [n], { isIdempotent: true }));
    await within(arrivals.all, 5_000, 'eight handlers starting');
    const acceptedBefore = proxy.accepted;
    proxy.cutAll();
    for (const call of plain) {
      await assert.rejects(call, (err: ConnectionError) => {
        assert.equal(err.code, 'GAW_ERR_CONN_CLOSED');
        assert.equal(err.mayHaveReachedServer, true, 'a call cut in flight may have run, so it is not retried');
        return true;
      });
    }
    gate.open();
    assert.deepEqual(await within(Promise.all(idempotent), 5_000, 'the idempotent calls retried'), [4, 5, 6, 7]);
    assert.equal(await client.call('victim.legit', [41]), 42);
    assert.ok(proxy.accepted > acceptedBefore, 'the client dialed fresh connections');
    assert.equal(
      executions.get('wait'),
      12,
      'each plain call ran once; each idempotent call ran once more after the cut',
    );
  } finally {
    client.destroy();
    await bystander.stop(2);
    await proxy.close();
    await victim.close();
  }
});

test('a pooled connection that went silent (no FIN, no RST) is abandoned after a call times out on it, and every later call is served on a fresh connection (defects D6, D7)', {
  timeout,
}, async () => {
  const victim = await startVictim({ encrypt: true });
  const proxy = await TcpProxy.start(victim.port);
  const client = new GawClient({
    port: proxy.port,
    secret: victim.secret,
    encrypt: true,
    poolSize: 1,
    timeoutMs: 300,
    retries: 3,
  });
  try {
    assert.equal(await client.call('victim.legit', [1]), 2);
    proxy.blackHoleAll();
    const outcomes: string[] = [];
    for (let n = 0; n < 5; n++)
      outcomes.push(
        await client.call('victim.legit', [n]).then(
          () => 'ok',
          (err: GawError) => err.code,
        ),
      );
    assert.equal(outcomes[0], 'GAW_ERR_CALL_TIMEOUT', 'the first call into the black hole times out');
    assert.deepEqual(
      outcomes.slice(1),
      ['ok', 'ok', 'ok', 'ok'],
      `later calls were served on a fresh connection: ${outcomes.join(', ')}`,
    );
    assert.ok(proxy.accepted > 1, 'the client dialed again');
  } finally {
    client.destroy();
    await proxy.close();
    await victim.close();
  }
});
