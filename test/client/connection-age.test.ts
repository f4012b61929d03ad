// maxConnectionAgeMs on either side, under load, over real loopback sockets: the client recycles
// its own connections (a replacement first, then the old one drains), and a server's CLOSE at the
// age moves the client to new connections; either way every call succeeds and the server sees
// fresh connections (counted by the peer address each call arrived from).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { GawClient } from '../../src/client/index.js';
import type { GawClientOptions } from '../../src/client/index.js';
import { callContext } from '../../src/context.js';
import { GawServer, entrypoint } from '../../src/server/index.js';
import type { GawServerOptions } from '../../src/server/index.js';
import { startServer, within } from '../helpers/server-fixtures.js';

class PeerService {
  static serviceName = 'peer';
  /** Which client address and port the call came in on; a few ms of work so calls are in flight at CLOSE. */
  @entrypoint async who(): Promise<string> {
    await delay(2);
    return callContext()?.peer ?? 'none';
  }
}

/** Calls peer.who with 16 in flight until `peers` connections were seen; resolves to the failures. */
async function loadUntilPeers(serverOptions: GawServerOptions, clientOptions: GawClientOptions, peers: number) {
  const server = await startServer(serverOptions, PeerService);
  const client = new GawClient({ port: server.address.port, poolSize: 1, ...clientOptions });
  const seen = new Set<string>();
  const failures: Error[] = [];
  let calls = 0;
  try {
    const worker = async () => {
      while (seen.size < peers && failures.length === 0) {
        calls++;
        const outcome = await client.call<string>('peer.who').catch((err: Error) => err);
        if (outcome instanceof Error) failures.push(outcome);
        else seen.add(outcome);
      }
    };
    await within(Promise.all(Array.from({ length: 16 }, worker)), 20_000, `calls over ${peers} connections`);
    return { failures, calls, seen };
  } finally {
    await client.close();
    await server.close();
  }
}

test('a client with maxConnectionAgeMs: 1000 recycles its connections under load without failing a call', async () => {
  // retries: 0 — the client never sends on a connection it is retiring, so nothing needs retrying.
  const { failures, calls, seen } = await loadUntilPeers({}, { maxConnectionAgeMs: 1000, retries: 0 }, 3);
  assert.deepEqual(failures, [], `failed calls out of ${calls}`);
  assert.equal(seen.size, 3);
});

test('a server with maxConnectionAgeMs: 1000 sends CLOSE and the client moves on under load without a failed call', async () => {
  const { failures, calls, seen } = await loadUntilPeers({ maxConnectionAgeMs: 1000 }, {}, 3);
  assert.deepEqual(failures, [], `failed calls out of ${calls}`);
  assert.equal(seen.size, 3);
});

test('maxConnectionAgeMs must be a whole number of milliseconds from 0, on the client and on the server', () => {
  for (const bad of [-1, 1.5, Number.NaN]) {
    assert.throws(() => new GawClient({ maxConnectionAgeMs: bad }), { code: 'GAW_ERR_INVALID_OPTION' });
    assert.throws(() => new GawServer({ maxConnectionAgeMs: bad }), { code: 'GAW_ERR_INVALID_OPTION' });
  }
  assert.throws(() => new GawClient({ protocol: 'gaw-legacy', maxConnectionAgeMs: 1000 }), /maxConnectionAgeMs/);
});
