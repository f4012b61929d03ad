// Per-call balancing over several real servers (127.0.0.1, .2 and .3, port 0): power-of-two-choices
// spreads calls evenly over equal servers, starves a slow one, honours weights; setEndpoints adds
// servers at run time and drains removed ones without cutting their calls; an endpoint whose calls
// keep timing out is ejected, but never every endpoint. Each server counts the calls it ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { GawClient } from '../../src/client/index.js';
import { entrypoint } from '../../src/server/index.js';
import type { GawServer } from '../../src/server/index.js';
import { Arrivals, Gate, capturingLogger, startServer, until, within } from '../helpers/server-fixtures.js';

const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.1'];

/** One server's behaviour and the calls it ran (shared with its service instance). */
interface Behaviour {
  delayMs: number;
  calls: number;
  /** `held` calls wait on this gate. */
  gate?: Gate;
  arrivals?: Arrivals;
  /** `stall` never returns. */
  isStalled?: boolean;
}

class CountService {
  static serviceName = 'count';
  readonly #label: string;
  readonly #behaviour: Behaviour;
  constructor(label: string, behaviour: Behaviour) {
    this.#label = label;
    this.#behaviour = behaviour;
  }
  @entrypoint async hit(): Promise<string> {
    this.#behaviour.calls++;
    if (this.#behaviour.delayMs > 0) await delay(this.#behaviour.delayMs);
    return this.#label;
  }
  @entrypoint async held(): Promise<string> {
    this.#behaviour.arrivals?.arrive();
    await this.#behaviour.gate?.promise;
    return this.#label;
  }
  @entrypoint async stall(): Promise<string> {
    this.#behaviour.calls++;
    if (this.#behaviour.isStalled === true) await new Promise(() => {});
    return this.#label;
  }
}

interface Counted {
  server: GawServer;
  behaviour: Behaviour;
  endpoint: string;
}

async function startCounted(label: string, host: string, behaviour: Partial<Behaviour> = {}): Promise<Counted> {
  const shared: Behaviour = { delayMs: 0, calls: 0, ...behaviour };
  const server = await startServer({ host, closeTimeoutMs: 500 }, [CountService, label, shared]);
  return { server, behaviour: shared, endpoint: `${host}:${server.address.port}` };
}

/** Runs `total` calls of `method` with `inFlight` at a time. */
async function load(client: GawClient, method: string, total: number, inFlight: number): Promise<void> {
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent++;
      await client.call(method);
    }
  };
  await within(Promise.all(Array.from({ length: inFlight }, worker)), 60_000, `${total} calls of ${method}`);
}

async function closeAll(client: GawClient, servers: Counted[]): Promise<void> {
  await client.close();
  await Promise.all(servers.map((s) => s.server.close()));
}

test('four equal servers share 4,000 calls at 64 in flight within a max/min of 1.5', async () => {
  const servers = await Promise.all(hosts.map((host, i) => startCounted(`s${i}`, host)));
  const client = new GawClient({ endpoints: servers.map((s) => s.endpoint) });
  try {
    await load(client, 'count.hit', 4_000, 64);
    const counts = servers.map((s) => s.behaviour.calls);
    assert.equal(
      counts.reduce((a, b) => a + b),
      4_000,
    );
    assert.ok(Math.max(...counts) / Math.min(...counts) <= 1.5, `calls per server: ${counts.join(', ')}`);
  } finally {
    await closeAll(client, servers);
  }
});

test('a server ten times slower than the others gets clearly fewer calls', async () => {
  const servers = await Promise.all(hosts.map((host, i) => startCounted(`s${i}`, host, { delayMs: i === 0 ? 50 : 5 })));
  const client = new GawClient({ endpoints: servers.map((s) => s.endpoint) });
  try {
    await load(client, 'count.hit', 2_000, 64);
    const [slow, ...fast] = servers.map((s) => s.behaviour.calls) as [number, ...number[]];
    assert.ok(slow < 0.6 * Math.min(...fast), `slow server ${slow} calls, the others ${fast.join(', ')}`);
  } finally {
    await closeAll(client, servers);
  }
});

test('an endpoint of weight 3 gets more calls than one of weight 1', async () => {
  const servers = await Promise.all(hosts.slice(0, 2).map((host, i) => startCounted(`s${i}`, host, { delayMs: 2 })));
  const [heavy, light] = servers as [Counted, Counted];
  const client = new GawClient({
    endpoints: [{ host: heavy.server.address.address, port: heavy.server.address.port, weight: 3 }, light.endpoint],
  });
  try {
    await load(client, 'count.hit', 2_000, 64);
    const { calls: h } = heavy.behaviour;
    const { calls: l } = light.behaviour;
    assert.ok(h > 1.5 * l, `weight 3: ${h} calls, weight 1: ${l}`);
  } finally {
    await closeAll(client, servers);
  }
});

test('setEndpoints adding a server makes it receive calls', async () => {
  const a = await startCounted('a', hosts[0] as string);
  const b = await startCounted('b', hosts[1] as string);
  const client = new GawClient({ endpoints: [a.endpoint] });
  try {
    await load(client, 'count.hit', 200, 8);
    assert.equal(b.behaviour.calls, 0);
    client.setEndpoints([a.endpoint, b.endpoint]);
    const deadline = performance.now() + 10_000;
    while (b.behaviour.calls === 0 && performance.now() < deadline) await load(client, 'count.hit', 100, 8);
    assert.ok(b.behaviour.calls > 0, 'the added server got no calls');
  } finally {
    await closeAll(client, [a, b]);
  }
});

test('a removed endpoint finishes its call in flight, gets no new calls, and its connection closes', async () => {
  const gate = new Gate();
  const arrivals = new Arrivals(1);
  const a = await startCounted('a', hosts[0] as string);
  const b = await startCounted('b', hosts[1] as string, { gate, arrivals });
  const client = new GawClient({ endpoints: [b.endpoint], timeoutMs: 20_000 });
  try {
    const held = client.call<string>('count.held');
    await within(arrivals.all, 5_000, 'the held call reaching b');
    client.setEndpoints([a.endpoint]);
    await load(client, 'count.hit', 500, 16);
    assert.equal(b.behaviour.calls, 0, 'a call went to the removed endpoint');
    assert.equal(a.behaviour.calls, 500);
    assert.equal(b.server.connectionCount, 1, 'the removed endpoint was cut');
    gate.open();
    assert.equal(await within(held, 5_000, 'the held call'), 'b');
    await until(() => b.server.connectionCount === 0, 'the removed endpoint closing its idle connection');
    assert.equal(client.pendingCount, 0);
  } finally {
    gate.open();
    await closeAll(client, [a, b]);
  }
});

test('setEndpoints refuses what the endpoints option refuses, and a closed client', async () => {
  const client = new GawClient({ endpoints: ['127.0.0.1:1'] });
  assert.throws(() => client.setEndpoints([]), { code: 'GAW_ERR_INVALID_OPTION', message: /at least one/ });
  assert.throws(() => client.setEndpoints(['nohost']), /endpoint "nohost" is not host:port/);
  assert.throws(() => client.setEndpoints('127.0.0.1:5' as never), { code: 'GAW_ERR_INVALID_OPTION' });
  assert.throws(() => client.setEndpoints([{ host: '127.0.0.1', port: 5, weight: 0 }]), /weight/);
  assert.throws(() => new GawClient({ endpoints: [{ host: '127.0.0.1', port: 5, weight: Number.NaN }] }), /weight/);
  await client.close();
  assert.throws(() => client.setEndpoints(['127.0.0.1:5']), { code: 'GAW_ERR_CLOSED' });
  const legacy = new GawClient({ protocol: 'gaw-legacy', port: 1 });
  assert.throws(() => legacy.setEndpoints(['127.0.0.1:5']), /gaw-legacy cannot change its endpoints/);
  await legacy.close();
});

test('an endpoint whose calls keep timing out is ejected; the calls go to the healthy one', async () => {
  const sick = await startCounted('sick', hosts[0] as string, { isStalled: true });
  const healthy = await startCounted('healthy', hosts[1] as string);
  const client = new GawClient({
    endpoints: [sick.endpoint, healthy.endpoint],
    ejectAfterFailures: 2,
    ejectionMs: 60_000,
    timeoutMs: 100,
    retries: 0,
  });
  try {
    const deadline = performance.now() + 10_000;
    let inARow = 0;
    while (inARow < 50 && performance.now() < deadline) {
      const ok = await client.call('count.stall').then(
        () => true,
        () => false,
      );
      inARow = ok ? inARow + 1 : 0;
    }
    assert.equal(inARow, 50, 'calls kept reaching the stalled endpoint');
    const before = sick.behaviour.calls;
    await load(client, 'count.stall', 200, 8);
    assert.equal(sick.behaviour.calls, before, 'the ejected endpoint still got calls');
  } finally {
    await client.close().catch(() => {});
    client.destroy();
    await Promise.all([sick.server.close().catch(() => {}), healthy.server.close()]);
  }
});

test('when every endpoint fails, the last one serving is never ejected', async () => {
  const servers = await Promise.all(
    hosts.slice(0, 2).map((host, i) => startCounted(`s${i}`, host, { isStalled: true })),
  );
  const logger = capturingLogger();
  const client = new GawClient({
    logger,
    endpoints: servers.map((s) => s.endpoint),
    ejectAfterFailures: 1,
    ejectionMs: 60_000,
    timeoutMs: 50,
    retries: 0,
  });
  try {
    await Promise.all(
      Array.from({ length: 40 }, () =>
        client.call('count.stall').then(
          () => assert.fail('a stalled call returned'),
          () => {},
        ),
      ),
    );
    const [a0, b0] = servers.map((s) => s.behaviour.calls) as [number, number];
    await Promise.all(Array.from({ length: 40 }, () => client.call('count.stall').catch(() => {})));
    const [a1, b1] = servers.map((s) => s.behaviour.calls) as [number, number];
    assert.ok(a0 + b0 === 40 && a1 + b1 === 80, `calls seen: ${a0}+${b0}, then ${a1}+${b1}`);
    const ejected = logger.lines.filter((line) => line.msg === 'endpoint ejected');
    assert.equal(ejected.length, 1, `ejections: ${JSON.stringify(ejected)}`);
  } finally {
    client.destroy();
    await Promise.all(servers.map((s) => s.server.close().catch(() => {})));
  }
});

test('ejecting an endpoint leaves the call in flight on it to finish', async () => {
  const gate = new Gate();
  const arrivals = new Arrivals(1);
  const sick = await startCounted('sick', hosts[0] as string, { isStalled: true, gate, arrivals });
  const healthy = await startCounted('healthy', hosts[1] as string);
  const logger = capturingLogger();
  const client = new GawClient({
    endpoints: [sick.endpoint],
    logger,
    ejectAfterFailures: 2,
    ejectionMs: 60_000,
    retries: 0,
  });
  try {
    const held = client.call<string>('count.held', [], { timeoutMs: 20_000 });
    await within(arrivals.all, 5_000, 'the held call reaching the sick endpoint');
    client.setEndpoints([sick.endpoint, healthy.endpoint]);
    const deadline = performance.now() + 10_000;
    while (!logger.lines.some((line) => line.msg === 'endpoint ejected') && performance.now() < deadline)
      await client.call('count.stall', [], { timeoutMs: 100 }).catch(() => {});
    assert.ok(
      logger.lines.some((line) => line.msg === 'endpoint ejected' && line.obj.endpoint === sick.endpoint),
      'the sick endpoint was not ejected',
    );
    gate.open();
    assert.equal(await within(held, 5_000, 'the held call'), 'sick');
  } finally {
    gate.open();
    client.destroy();
    await Promise.all([sick.server.close().catch(() => {}), healthy.server.close()]);
  }
});
