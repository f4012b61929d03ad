// Frame-level attacks on a real GawServer from an authenticated peer: bad length prefixes (whole
// and split across writes), frames announced at the cap whose body never comes, truncated frames
// then FIN or a stall, silent peers and peers that reset with a call in flight. After each: the
// connection is cut with nothing written back, no handler ran, memory stayed bounded, and an honest
// client is still served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { GawpClient } from '../helpers/gawp-peer.js';
import { within, until } from '../helpers/server-fixtures.js';
import type { SuiteName } from '../../src/postoffice/index.js';
import {
  assertMemoryBounded,
  assertUnharmed,
  checkServes,
  executions,
  holdWaits,
  memoryNow,
  startVictim,
} from './helpers/victim.js';
import type { Victim } from './helpers/victim.js';

const suitesUnderTest: SuiteName[] = ['none', 'sign', 'cbc', 'secretbox'];

async function authed(victim: Victim): Promise<GawpClient> {
  return GawpClient.handshake(victim.port, victim.suite === 'none' ? undefined : victim.psk, { suite: victim.suite });
}

function victimFor(suite: SuiteName, extra: Parameters<typeof startVictim>[0] = {}): Promise<Victim> {
  return startVictim(suite === 'none' ? { secret: undefined, ...extra } : { suite, ...extra });
}

/** Length prefixes every suite must refuse, with the suite minimum for `below minimum`. */
function badLengths(suite: SuiteName): [string, number][] {
  const minimum = { none: 1, sign: 33, cbc: 65, secretbox: 18 }[suite];
  const cases: [string, number][] = [
    ['0', 0],
    ['2^32 - 1', 0xffff_ffff],
  ];
  if (minimum > 1) cases.push(['one below the suite minimum', minimum - 1]);
  if (suite === 'cbc') cases.push(['misaligned for cbc', 65 + 8], ['misaligned for cbc by one', 65 + 16 + 1]);
  cases.push([
    'one past the payload cap plus overhead',
    16 * 1024 * 1024 + { none: 1, sign: 33, cbc: 49 + 16, secretbox: 18 }[suite] + (suite === 'cbc' ? 16 : 1),
  ]);
  return cases;
}

for (const suite of suitesUnderTest) {
  test(`suite ${suite}: bad length prefixes (0, below the minimum, misaligned, 2^32 - 1, past the cap), whole or one byte per write, cut the connection with nothing written back`, async () => {
    const victim = await victimFor(suite);
    try {
      const before = memoryNow();
      for (const [what, len] of badLengths(suite)) {
        for (const isSplit of [false, true]) {
          const peer = await authed(victim);
          const helloBytes = peer.serverHello!.length;
          const prefix = Buffer.alloc(4);
          prefix.writeUInt32BE(len >>> 0);
          // A few body bytes follow, as an attacker would send: they must not matter.
          const bytes = Buffer.concat([prefix, Buffer.alloc(64, 0x41)]);
          if (isSplit) await peer.raw.writeInPieces(bytes, 1).catch(() => {});
          else await peer.raw.write(bytes).catch(() => {});
          const closed = await within(peer.raw.closed, 3_000, `the server cutting a length of ${what}`);
          assert.equal(
            closed.receivedBytes,
            helloBytes,
            `length ${what}${isSplit ? ' (split)' : ''}: nothing but the ServerHello came back`,
          );
        }
      }
      assertMemoryBounded(before, 64 * 1024 * 1024, 'after announcing 4 GiB frames');
      await assertUnharmed(victim);
    } finally {
      await victim.close();
    }
  });
}

test('a frame announced at the 16 MiB cap whose body never comes allocates nothing up front and is cut at frameTimeoutMs', async () => {
  const victim = await startVictim({ encrypt: true, frameTimeoutMs: 300 });
  try {
    const peers: GawpClient[] = [];
    const before = memoryNow();
    for (let i = 0; i < 20; i++) peers.push(await authed(victim));
    for (const peer of peers) {
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(16 * 1024 * 1024 + 49); // aligned for cbc: a legal length at the cap
      await peer.raw.write(Buffer.concat([prefix, Buffer.alloc(100, 7)]));
    }
    // Twenty frames at the cap would be 320 MiB if the server allocated the announced length.
    assertMemoryBounded(before, 64 * 1024 * 1024, 'twenty frames announced at the cap');
    const startMs = Date.now();
    for (const peer of peers) {
      const closed = await within(peer.raw.closed, 3_000, 'the frame timeout');
      assert.equal(closed.receivedBytes, peer.serverHello!.length, 'nothing came back');
    }
    assert.ok(Date.now() - startMs < 2_000, 'the stalled frames were cut at the frame timeout, not later');
    await until(() => victim.server.connectionCount === 0, 'the server forgetting the stalled connections');
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});

for (const suite of ['sign', 'cbc', 'secretbox'] as const) {
  test(`suite ${suite}: a truncated frame followed by FIN delivers nothing and runs no handler`, async () => {
    const victim = await victimFor(suite);
    try {
      for (const cut of [1, 5, 20]) {
        const peer = await authed(victim);
        const frame = peer.sealMessages(
          JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'victim.add', params: [1, 2] }),
        );
        await peer.raw.write(frame.subarray(0, frame.length - cut));
        peer.raw.end();
        const closed = await within(peer.raw.closed, 3_000, 'the server closing after FIN');
        assert.equal(closed.receivedBytes, peer.serverHello!.length, `cut ${cut}: nothing came back`);
      }
      await assertUnharmed(victim);
    } finally {
      await victim.close();
    }
  });
}

test('a truncated frame followed by silence is cut at frameTimeoutMs and the request never runs', async () => {
  const victim = await startVictim({ encrypt: true, frameTimeoutMs: 300 });
  try {
    const peer = await authed(victim);
    const frame = peer.sealMessages(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'victim.add', params: [1, 2] }));
    await peer.raw.write(frame.subarray(0, frame.length - 1));
    const closed = await within(peer.raw.closed, 3_000, 'the frame timeout');
    assert.equal(closed.receivedBytes, peer.serverHello!.length);
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});

test('a frame sent one byte per 100 ms is cut at frameTimeoutMs (300 ms) from its first byte, not from its last', async () => {
  const victim = await startVictim({ encrypt: true, frameTimeoutMs: 300 });
  try {
    const peer = await authed(victim);
    const frame = peer.sealMessages(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'victim.add', params: [1, 2] }));
    const startMs = Date.now();
    for (let i = 0; i < frame.length && !peer.raw.isClosed; i++) {
      await peer.raw.write(frame.subarray(i, i + 1)).catch(() => {});
      await Promise.race([delay(100), peer.raw.closed]);
    }
    const closed = await within(peer.raw.closed, 3_000, 'the frame deadline');
    assert.equal(closed.receivedBytes, peer.serverHello!.length);
    assert.ok(
      Date.now() - startMs < 2_000,
      `cut after ${Date.now() - startMs} ms, not after the whole ${frame.length}-byte frame`,
    );
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});

test('TCP connections that never send a byte get nothing and are closed at handshakeTimeoutMs', async () => {
  const victim = await startVictim({ handshakeTimeoutMs: 300 });
  try {
    const peers = await Promise.all(Array.from({ length: 20 }, () => GawpClient.connect(victim.port)));
    const startMs = Date.now();
    for (const peer of peers) {
      const closed = await within(peer.raw.closed, 3_000, 'the handshake timeout');
      assert.equal(closed.receivedBytes, 0, 'a silent peer is sent nothing');
    }
    assert.ok(Date.now() - startMs < 2_000, 'cut at the handshake deadline, not later');
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});

test('an authenticated peer that goes silent without FIN is closed at idleTimeoutMs and forgotten', async () => {
  const victim = await startVictim({ idleTimeoutMs: 300 });
  try {
    const peers = await Promise.all(Array.from({ length: 5 }, () => authed(victim)));
    await until(() => victim.server.connectionCount === 5, 'five authenticated connections');
    for (const peer of peers) {
      const closed = await within(peer.raw.closed, 3_000, 'the idle timeout');
      assert.equal(closed.receivedBytes, peer.serverHello!.length);
    }
    await until(() => victim.server.connectionCount === 0, 'the server forgetting silent peers');
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});

test('a peer that resets (RST, no FIN) with calls in flight: the handlers finish, their replies are dropped, the server carries on', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const { gate, arrivals, returned } = holdWaits(3);
    const peer = await authed(victim);
    await peer.sendMessages(
      ...[1, 2, 3].map((id) => JSON.stringify({ jsonrpc: '2.0', id, method: 'victim.wait', params: [id] })),
    );
    await within(arrivals.all, 3_000, 'three handlers starting');
    peer.raw.socket.resetAndDestroy();
    await until(() => victim.server.connectionCount === 0, 'the server seeing the reset');
    gate.open();
    await within(returned.all, 3_000, 'the three handlers returning');
    assert.equal(executions.get('wait'), 3, 'each request ran once');
    assert.deepEqual(
      victim.logs.filter((line) => line.level === 'error'),
      [],
      'a reply with nowhere to go is no error',
    );
    await checkServes(victim);
  } finally {
    await victim.close();
  }
});
