// Tampering with authenticated traffic to a real GawServer: every single-bit flip of a valid
// sign / cbc / secretbox request frame, replay within and across connections, reordered and
// dropped frames, reflected frames, and validly sealed frames with bad insides. Each must cut the
// connection with nothing written back and no handler run; the untouched frame, as a control, runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameTypes } from '../../src/postoffice/suite.js';
import { packMessages } from '../../src/postoffice/frame.js';
import { GawpClient } from '../helpers/gawp-peer.js';
import { RawSocket } from '../helpers/raw-socket.js';
import { within } from '../helpers/server-fixtures.js';
import { assertUnharmed, checkServes, executions, startVictim } from './helpers/victim.js';
import type { Victim } from './helpers/victim.js';

const request = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'victim.add', params: [20, 22] });

async function authed(victim: Victim): Promise<GawpClient> {
  return GawpClient.handshake(victim.port, victim.psk, { suite: victim.suite });
}

/** Runs `work` over 0..count-1 with at most `concurrency` at once. */
async function pooled(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

for (const suite of ['sign', 'cbc', 'secretbox'] as const) {
  test(`suite ${suite}: each of the frame's bits flipped in turn cuts the connection with nothing written back and no handler run`, async (t) => {
    const victim = await startVictim({ suite });
    try {
      // The control: the same frame untouched is answered.
      const control = await authed(victim);
      await control.sendMessages(request);
      assert.deepEqual(JSON.parse((await control.receive()).messages[0]!), { jsonrpc: '2.0', id: 7, result: 42 });
      control.raw.destroy();
      executions.clear();

      const frameBits = control.sealMessages(request).length * 8;
      await pooled(frameBits, 16, async (bit) => {
        // Without X25519 the handshakes are cheaper; the frame keys are as unique (fresh randoms).
        const peer = await GawpClient.handshake(victim.port, victim.psk, { suite, hasForwardSecrecy: false });
        const frame = peer.sealMessages(request);
        frame[bit >> 3]! ^= 0x80 >> (bit & 7);
        await peer.raw.write(frame).catch(() => {});
        // A flip that lengthens the frame leaves the server waiting for bytes: FIN ends that wait.
        peer.raw.end();
        const closed = await within(peer.raw.closed, 3_000, `the server cutting bit ${bit}`);
        assert.equal(closed.receivedBytes, peer.serverHello!.length, `bit ${bit}: nothing came back`);
      });
      t.diagnostic(`${frameBits} single-bit flips, one connection each`);
      await assertUnharmed(victim);
    } finally {
      await victim.close();
    }
  });
}

test('a frame replayed on its own connection is refused: the request ran once and the connection is cut', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await authed(victim);
    const frame = peer.sealMessages(request);
    await peer.raw.write(frame);
    const reply = await peer.readFrame();
    await peer.raw.write(frame);
    const closed = await within(peer.raw.closed, 3_000, 'the server cutting the replay');
    assert.equal(closed.receivedBytes, 105 + reply.length, 'nothing after the first reply');
    assert.equal(executions.get('add'), 1);
    await checkServes(victim);
  } finally {
    await victim.close();
  }
});

test('a recorded session replayed on a new connection gets only a fresh ServerHello, and its frame never runs', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const original = await authed(victim);
    await original.sendMessages(request);
    await original.receive();
    assert.equal(executions.get('add'), 1);
    const recording = original.raw.sent;
    const replay = await RawSocket.connect(victim.port);
    await replay.write(recording);
    const closed = await within(replay.closed, 3_000, 'the server cutting the replayed session');
    assert.equal(closed.receivedBytes, 105, 'only the ServerHello');
    // And the frame alone, replayed as the first frame of another authenticated connection.
    const frame = original.sealMessages(request);
    const other = await authed(victim);
    await other.raw.write(frame);
    assert.equal((await within(other.raw.closed, 3_000, 'the server cutting the foreign frame')).receivedBytes, 105);
    assert.equal(executions.get('add'), 1, 'the replays ran nothing');
    original.raw.destroy();
    await checkServes(victim);
  } finally {
    await victim.close();
  }
});

test('reordered and dropped frames are refused at the first out-of-sequence frame, before any of its requests run', async () => {
  const victim = await startVictim({ suite: 'secretbox' });
  try {
    const reordered = await authed(victim);
    const first = reordered.sealMessages(request);
    const second = reordered.sealMessages(request);
    await reordered.raw.write(Buffer.concat([second, first]));
    assert.equal((await within(reordered.raw.closed, 3_000, 'the reorder cut')).receivedBytes, 105);

    const dropped = await authed(victim);
    dropped.sealMessages(request); // sealed, never sent: the network dropped it
    await dropped.raw.write(dropped.sealMessages(request));
    assert.equal((await within(dropped.raw.closed, 3_000, 'the drop cut')).receivedBytes, 105);
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});

for (const suite of ['sign', 'cbc', 'secretbox'] as const) {
  test(`suite ${suite}: the server's own reply frame reflected back to it is refused`, async () => {
    const victim = await startVictim({ suite });
    try {
      const peer = await authed(victim);
      await peer.sendMessages(request);
      const reply = await peer.readFrame();
      await peer.raw.write(reply);
      assert.equal(
        (await within(peer.raw.closed, 3_000, 'the reflection cut')).receivedBytes,
        peer.serverHello!.length + reply.length,
      );
      assert.equal(executions.get('add'), 1, 'only the honest request ran');
      await checkServes(victim);
    } finally {
      await victim.close();
    }
  });
}

test('validly sealed frames with bad insides (unknown type, CLOSE with a payload, empty DATA, bad message framing) run nothing, not even the good messages before the fault', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const good = Buffer.from(request);
    const zeroLength = Buffer.concat([packMessages([good]), Buffer.alloc(4)]);
    const pastEnd = Buffer.concat([packMessages([good]), Buffer.from([0, 0, 1, 0]), Buffer.from('short')]);
    const stub = Buffer.concat([packMessages([good]), Buffer.from([0, 0])]);
    const attacks: [string, number, Buffer][] = [
      ['frame type 3', 3, packMessages([good])],
      ['frame type 0', 0, packMessages([good])],
      ['CLOSE with a payload', frameTypes.close, packMessages([good])],
      ['an empty DATA payload', frameTypes.data, Buffer.alloc(0)],
      ['a message of length 0 after a good one', frameTypes.data, zeroLength],
      ['a message running past the payload after a good one', frameTypes.data, pastEnd],
      ['two stray bytes after a good message', frameTypes.data, stub],
    ];
    for (const [what, type, payload] of attacks) {
      const peer = await authed(victim);
      await peer.raw.write(peer.seal(type, payload));
      assert.equal((await within(peer.raw.closed, 3_000, what)).receivedBytes, 105, `${what}: nothing came back`);
    }
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});
