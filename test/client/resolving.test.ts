// A host name in the endpoints is one endpoint per address: real servers on 127.0.0.2 and
// 127.0.0.3 sharing one port, a name resolved by an injected lookup whose answer the test
// changes; re-resolved on an interval and after a failed connect; an address that goes away
// drains its call in flight. 'localhost' goes through node:dns itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawClient } from '../../src/client/index.js';
import type { GawServer } from '../../src/server/index.js';
import { Arrivals, Gate, LabelService, startServer, within } from '../helpers/server-fixtures.js';
import { entrypoint } from '../../src/server/index.js';

class HeldService {
  static serviceName = 'held';
  static gate = new Gate();
  static arrivals = new Arrivals(1);
  @entrypoint async wait(): Promise<string> {
    HeldService.arrivals.arrive();
    await HeldService.gate.promise;
    return 'held';
  }
}

/** Servers labelled by their last octet on 127.0.0.2 and 127.0.0.3, both on one port. */
async function startPair(): Promise<{ servers: GawServer[]; port: number }> {
  for (let tries = 0; ; tries++) {
    const first = await startServer({ host: '127.0.0.2' }, [LabelService, '2'], HeldService);
    try {
      const second = await startServer({ host: '127.0.0.3', port: first.address.port }, [LabelService, '3']);
      return { servers: [first, second], port: first.address.port };
    } catch (err) {
      await first.close();
      if (tries >= 5) throw err;
    }
  }
}

/** A lookup answering `answer.addresses` for `svc.test` and counting its calls. */
function fakeLookup(addresses: string[]) {
  const state = { addresses, lookups: 0 };
  const lookup = async (hostname: string) => {
    state.lookups++;
    if (hostname !== 'svc.test')
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return state.addresses.map((address) => ({ address, family: 4 }));
  };
  return { state, lookup };
}

async function labels(client: GawClient, count: number): Promise<Set<string>> {
  const seen = new Set<string>();
  await Promise.all(Array.from({ length: count }, async () => seen.add(await client.call<string>('label.whoami'))));
  return seen;
}

/** Calls until one is answered by `label`, within `timeoutMs`. */
async function untilAnsweredBy(client: GawClient, label: string, timeoutMs = 10_000): Promise<void> {
  await within(
    (async () => {
      while ((await client.call<string>('label.whoami')) !== label);
    })(),
    timeoutMs,
    `a call answered by ${label}`,
  );
}

test('a name resolving to two addresses is two endpoints, and calls reach both', async () => {
  const { servers, port } = await startPair();
  const { state, lookup } = fakeLookup(['127.0.0.2', '127.0.0.3']);
  const client = new GawClient({ endpoints: [`svc.test:${port}`], lookup });
  try {
    assert.deepEqual([...(await labels(client, 200))].sort(), ['2', '3']);
    assert.ok(state.lookups >= 1);
  } finally {
    await client.close();
    await Promise.all(servers.map((s) => s.close()));
  }
});

test('addresses that appear take calls and one that goes away drains its call in flight', async () => {
  const { servers, port } = await startPair();
  const { state, lookup } = fakeLookup(['127.0.0.2']);
  const client = new GawClient({ endpoints: [`svc.test:${port}`], lookup, resolveIntervalMs: 50 });
  try {
    assert.deepEqual([...(await labels(client, 50))], ['2']);
    // Only .2 is listed, so the held call is there.
    const held = client.call<string>('held.wait', [], { timeoutMs: 20_000 });
    await within(HeldService.arrivals.all, 5_000, 'the held call reaching 127.0.0.2');
    state.addresses = ['127.0.0.2', '127.0.0.3'];
    await untilAnsweredBy(client, '3');
    state.addresses = ['127.0.0.3'];
    await within(
      (async () => {
        // Once the lookup is applied, no call goes to .2 any more: 50 in a row answered by .3.
        let inARow = 0;
        while (inARow < 50) inARow = (await client.call<string>('label.whoami')) === '3' ? inARow + 1 : 0;
      })(),
      10_000,
      'calls leaving the removed address',
    );
    HeldService.gate.open();
    assert.equal(await within(held, 5_000, 'the held call'), 'held');
  } finally {
    HeldService.gate.open();
    await client.close();
    await Promise.all(servers.map((s) => s.close()));
  }
});

test('a failed connect re-resolves the name, so calls follow a server that moved', async () => {
  const { servers, port } = await startPair();
  const { state, lookup } = fakeLookup(['127.0.0.2']);
  const client = new GawClient({ endpoints: [`svc.test:${port}`], lookup, resolveIntervalMs: 0 });
  try {
    assert.deepEqual([...(await labels(client, 20))], ['2']);
    const lookupsBefore = state.lookups;
    state.addresses = ['127.0.0.3'];
    await (servers[0] as GawServer).close();
    await untilAnsweredBy(client, '3');
    assert.ok(state.lookups > lookupsBefore, 'the name was not looked up again');
  } finally {
    await client.close();
    await Promise.all(servers.map((s) => s.close()));
  }
});

test('localhost is looked up through node:dns and its address serves the calls', async () => {
  const server = await startServer({ host: '127.0.0.1' }, [LabelService, 'local']);
  const client = new GawClient({ endpoints: [`localhost:${server.address.port}`] });
  try {
    assert.deepEqual([...(await labels(client, 20))], ['local']);
  } finally {
    await client.close();
    await server.close();
  }
});

test('lookup and resolveIntervalMs are checked', () => {
  assert.throws(() => new GawClient({ lookup: 'dns' as never }), { code: 'GAW_ERR_INVALID_OPTION' });
  assert.throws(() => new GawClient({ resolveIntervalMs: -1 }), { code: 'GAW_ERR_INVALID_OPTION' });
});
