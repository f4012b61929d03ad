// Faults of whole server processes under load: real child-process servers on 127.0.0.2 and
// 127.0.0.3 (port 0, each reports its port), stopped with SIGSTOP, resumed with SIGCONT, killed
// with SIGKILL. Every wait is a poll with a deadline; every child is killed by pid in finally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawClient } from '../../src/client/index.js';
import type { GawClientOptions } from '../../src/client/index.js';
import { ChildServer, capturingLogger, until, within } from '../helpers/server-fixtures.js';
import type { LogLine } from '../helpers/server-fixtures.js';

async function startPair(): Promise<[ChildServer, ChildServer]> {
  const a = await ChildServer.start('a', { host: '127.0.0.2' });
  try {
    return [a, await ChildServer.start('b', { host: '127.0.0.3' })];
  } catch (err) {
    a.child.kill('SIGKILL');
    throw err;
  }
}

function endpointsOf(servers: readonly ChildServer[]): string[] {
  return servers.map((s, i) => `127.0.0.${i + 2}:${s.port}`);
}

function logged(lines: readonly LogLine[], msg: string, endpoint: string): number {
  return lines.filter((line) => line.msg === msg && line.obj.endpoint === endpoint).length;
}

test('a SIGSTOPped server is ejected, takes no calls while stopped, and serves again after SIGCONT once probed', async () => {
  const servers = await startPair();
  const [a] = servers;
  const [aEndpoint] = endpointsOf(servers) as [string, string];
  const logger = capturingLogger();
  const options: GawClientOptions = {
    endpoints: endpointsOf(servers),
    logger,
    ejectAfterFailures: 2,
    ejectionMs: 200,
    maxEjectionMs: 400,
    connectTimeoutMs: 300,
    timeoutMs: 300,
    retries: 0,
  };
  const client = new GawClient(options);
  try {
    const seen = new Set<string>();
    await within(
      (async () => {
        while (seen.size < 2) seen.add(await client.call<string>('label.whoami'));
      })(),
      10_000,
      'calls reaching both servers',
    );
    a.child.kill('SIGSTOP');
    let failedAfterEjection = 0;
    let answeredAfterEjection = 0;
    let isDone = false;
    const worker = async () => {
      while (!isDone) {
        const isAfterEjection = logged(logger.lines, 'endpoint ejected', aEndpoint) > 0;
        const outcome = await client.call<string>('label.whoami').catch((err: Error) => err);
        if (!isAfterEjection) continue;
        if (outcome instanceof Error) failedAfterEjection++;
        else answeredAfterEjection++;
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, worker));
    try {
      // Stopped: the calls on it time out, it is ejected, and each probe at the end of an ejection fails.
      await until(() => logged(logger.lines, 'endpoint probe failed', aEndpoint) >= 2, 'two failed probes', 15_000);
      assert.equal(failedAfterEjection, 0, 'a call started after the ejection failed (it reached the stopped server)');
      assert.ok(answeredAfterEjection > 0, 'no call was answered while the server was stopped');
      a.child.kill('SIGCONT');
      await until(
        () => logged(logger.lines, 'endpoint probed: serving again', aEndpoint) > 0,
        'the resumed server probed back',
        15_000,
      );
      const resumed = new Set<string>();
      await within(
        (async () => {
          while (!resumed.has('a')) resumed.add(await client.call<string>('label.whoami'));
        })(),
        10_000,
        'a call reaching the resumed server',
      );
    } finally {
      isDone = true;
      await load;
    }
  } finally {
    client.destroy();
    for (const server of servers) server.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
  }
});

test('SIGKILL of one server under load (32 in flight): every idempotent call completes', async () => {
  const servers = await startPair();
  const [a] = servers;
  const client = new GawClient({
    endpoints: endpointsOf(servers),
    idempotent: ['label.whoami'],
    timeoutMs: 10_000,
  });
  try {
    const failures: Error[] = [];
    let answeredByB = 0;
    let answered = 0;
    let isKilled = false;
    const worker = async () => {
      while (failures.length === 0 && answeredByB < 500) {
        const outcome = await client.call<string>('label.whoami').catch((err: Error) => err);
        if (outcome instanceof Error) failures.push(outcome);
        else {
          answered++;
          if (isKilled && outcome === 'b') answeredByB++;
        }
        if (!isKilled && answered >= 500) {
          isKilled = true;
          a.child.kill('SIGKILL');
        }
      }
    };
    await within(Promise.all(Array.from({ length: 32 }, worker)), 30_000, 'the load around the SIGKILL');
    assert.deepEqual(failures, []);
    assert.ok(answeredByB >= 500, `answered by b after the kill: ${answeredByB}`);
  } finally {
    client.destroy();
    for (const server of servers) server.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
  }
});

test('an endpoint whose port is closed fails over at once: no call fails, even with one retry', async () => {
  const servers = await startPair();
  const [a] = servers;
  a.child.kill('SIGKILL');
  await a.exited;
  const logger = capturingLogger();
  const client = new GawClient({ endpoints: endpointsOf(servers), logger, retries: 1 });
  const [closed] = endpointsOf(servers) as [string, string];
  try {
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, () => client.call<string>('label.whoami').catch((err: Error) => err)),
    );
    assert.deepEqual(
      outcomes.filter((o) => o !== 'b'),
      [],
    );
    // Refused connects put the closed endpoint in backoff: it is not dialed once per call.
    const dials = logger.lines.filter((line) => line.msg === 'connecting failed' && line.obj.endpoint === closed);
    assert.ok(dials.length >= 1 && dials.length <= 8, `connects to the closed port: ${dials.length}`);
  } finally {
    client.destroy();
    for (const server of servers) server.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
  }
});
