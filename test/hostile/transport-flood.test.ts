// Resource attacks on a real GawServer: 2,000 TCP connections opened at once and left idle while a
// bystander keeps calling, and a peer that pipelines 100,000 requests while it stops reading
// (backpressure pauses the server; past maxPendingWriteBytes it is cut). After each: the bystander
// saw no failure, memory stayed bounded, and nothing was lost for a peer that reads again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { GawpClient } from '../helpers/gawp-peer.js';
import { RawSocket } from '../helpers/raw-socket.js';
import { within, until } from '../helpers/server-fixtures.js';
import { MAX_MESSAGES_PER_FRAME, packMessages } from '../../src/postoffice/frame.js';
import { maxParseErrors } from '../../src/server/served-connection.js';
import {
  Bystander,
  assertMemoryBounded,
  assertUnharmed,
  attackExecutions,
  checkServes,
  executions,
  holdWaits,
  memoryNow,
  startVictim,
} from './helpers/victim.js';
import type { Victim } from './helpers/victim.js';

const timeout = 30_000;

async function authed(victim: Victim): Promise<GawpClient> {
  return GawpClient.handshake(victim.port, victim.psk, { suite: victim.suite });
}

/** Resolves once `read()` has not changed for `quietMs` (a bound on how long a pipeline keeps moving). */
async function settled(read: () => number, what: string, quietMs = 300, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = read();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`${what} did not settle within ${timeoutMs} ms`);
    await delay(25);
    const now = read();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
  return last;
}

/** `count` pad requests (ids from `firstId`) sealed into frames of `perFrame` messages. */
function padFrames(peer: GawpClient, count: number, perFrame: number, replyBytes: number, firstId = 1): Buffer[] {
  const frames: Buffer[] = [];
  for (let start = 0; start < count; start += perFrame) {
    const messages: string[] = [];
    for (let id = start; id < Math.min(count, start + perFrame); id++) {
      messages.push(`{"jsonrpc":"2.0","id":${firstId + id},"method":"victim.pad","params":[${replyBytes}]}`);
    }
    frames.push(peer.sealMessages(...messages));
  }
  return frames;
}

test('2,000 connections opened together (bursts of 250 SYNs) and left idle: the oldest are dropped past maxUnauthenticated with nothing written, a bystander is served throughout, and a new client still connects', {
  timeout,
}, async () => {
  const victim = await startVictim({ encrypt: true, maxUnauthenticated: 128, handshakeTimeoutMs: 20_000 });
  const bystander = new Bystander(victim);
  const sockets: RawSocket[] = [];
  try {
    await bystander.start();
    const before = memoryNow();
    // Bursts of 250 SYNs: one burst of 2,000 overflows the kernel's accept queue (Node listens with a
    // backlog of 511), and with SYN cookies the overflow leaves client-side sockets the server never sees.
    for (let burst = 0; burst < 8; burst++) {
      sockets.push(...(await Promise.all(Array.from({ length: 250 }, () => RawSocket.connect(victim.port)))));
    }
    assert.equal(sockets.length, 2_000);
    // At most 128 may wait in the handshake: the server drops the oldest of the rest at once.
    await until(
      () => sockets.filter((s) => s.isClosed).length >= 2_000 - 128,
      'the server dropping all but 128 idle sockets',
      15_000,
    );
    for (const socket of sockets)
      if (socket.isClosed) assert.equal(socket.receivedBytes, 0, 'a dropped socket was sent nothing');
    // The last burst (250) holds the 128 newest: every socket of the seven bursts before it was dropped.
    assert.ok(
      sockets.slice(0, 1_750).every((s) => s.isClosed),
      'the oldest sockets were the ones dropped',
    );
    await assertUnharmed(victim);
    assertMemoryBounded(before, 96 * 1024 * 1024, '2,000 idle connections');
    await until(() => victim.server.connectionCount === 1, 'only the bystander left authenticated');
  } finally {
    for (const socket of sockets) socket.destroy();
    await bystander.stop(2);
    await victim.close();
  }
});

test('100,000 requests pipelined by a peer that stops reading: the server stops reading too, then delivers every reply in order once the peer reads again', {
  timeout,
}, async () => {
  const victim = await startVictim({
    encrypt: true,
    highWaterBytes: 64 * 1024,
    maxPendingWriteBytes: 64 * 1024 * 1024,
  });
  const bystander = new Bystander(victim);
  try {
    await bystander.start();
    const peer = await authed(victim);
    peer.raw.pause();
    const before = memoryNow();
    for (const frame of padFrames(peer, 100_000, 1_000, 256)) peer.raw.socket.write(frame);
    const ranWhilePaused = await settled(() => executions.get('pad') ?? 0, 'the server reading requests');
    assert.ok(ranWhilePaused < 100_000, `the server stopped reading (${ranWhilePaused} of 100,000 requests ran)`);
    assert.ok(ranWhilePaused > 0, 'the server read some requests before it paused');
    assertMemoryBounded(before, 96 * 1024 * 1024, 'a peer that stopped reading 25 MB of replies');
    // The peer reads again: every reply arrives, in order, none lost.
    peer.raw.resume();
    let expected = 1;
    while (expected <= 100_000) {
      const frame = await within(peer.receive(), 10_000, `the reply to request ${expected}`);
      for (const text of frame.messages) {
        const reply = JSON.parse(text) as { id: number; result: string };
        assert.equal(reply.id, expected, 'replies arrive in request order');
        assert.equal(reply.result.length, 256);
        expected++;
      }
    }
    assert.equal(executions.get('pad'), 100_000, 'each request ran exactly once');
    peer.raw.destroy();
    await checkServes(victim);
  } finally {
    await bystander.stop(2);
    await victim.close();
  }
});

test('a peer that stops reading while 100,000 requests are pipelined is cut at maxPendingWriteBytes (GAW_ERR_BACKPRESSURE) without running them all', {
  timeout,
}, async () => {
  const victim = await startVictim({ encrypt: true, highWaterBytes: 64 * 1024, maxPendingWriteBytes: 1024 * 1024 });
  const bystander = new Bystander(victim);
  try {
    await bystander.start();
    const peer = await authed(victim);
    await until(() => victim.server.connectionCount === 2, 'the server attaching the peer');
    peer.raw.pause();
    const before = memoryNow();
    // 8 KiB replies: one frame's worth of replies (2,000 x 8 KiB) is more than the kernel's socket
    // buffers absorb, so the output piles up in the process and passes the cap. (With small replies
    // the server just stops reading at highWaterBytes and the peer stays stuck until idleTimeoutMs.)
    for (const frame of padFrames(peer, 100_000, 2_000, 8_192)) peer.raw.socket.write(frame);
    await until(() => victim.server.connectionCount === 1, 'the server cutting the peer that stopped reading', 15_000);
    assert.ok(
      (executions.get('pad') ?? 0) < 100_000,
      `${executions.get('pad')} of 100,000 requests ran before the cut`,
    );
    assert.ok(
      victim.logs.some((line) => line.obj.code === 'GAW_ERR_BACKPRESSURE'),
      'the server logged the backpressure cut',
    );
    assertMemoryBounded(before, 96 * 1024 * 1024, 'a peer that stopped reading 100 MB of replies');
    peer.raw.destroy();
    assert.equal(attackExecutions() - (executions.get('pad') ?? 0), 0);
    await checkServes(victim);
  } finally {
    await bystander.stop(2);
    await victim.close();
  }
});

test('100,000 requests to a blocking handler in frames at the message cap: maxInFlight (256) run at once, the rest wait in order within maxWaitingBytes, and all complete in order', {
  timeout,
}, async () => {
  const victim = await startVictim({ encrypt: true, maxInFlight: 256 });
  const bystander = new Bystander(victim);
  try {
    await bystander.start();
    const { gate, arrivals } = holdWaits(256);
    const peer = await authed(victim);
    const before = memoryNow();
    for (let start = 0; start < 100_000; start += MAX_MESSAGES_PER_FRAME) {
      const messages: string[] = [];
      for (let id = start + 1; id <= Math.min(100_000, start + MAX_MESSAGES_PER_FRAME); id++) {
        messages.push(`{"jsonrpc":"2.0","id":${id},"method":"victim.wait","params":[${id}]}`);
      }
      peer.raw.socket.write(peer.sealMessages(...messages));
    }
    await within(arrivals.all, 10_000, '256 handlers starting');
    const started = await settled(() => executions.get('wait') ?? 0, 'handlers starting');
    assert.equal(started, 256, 'no more than maxInFlight handlers started');
    assertMemoryBounded(before, 128 * 1024 * 1024, '100,000 blocked requests');
    gate.open();
    let expected = 1;
    while (expected <= 100_000) {
      for (const text of (await within(peer.receive(), 10_000, `the reply to request ${expected}`)).messages) {
        const reply = JSON.parse(text) as { id: number; result: number };
        assert.equal(reply.id, expected, 'replies in request order');
        assert.equal(reply.result, expected);
        expected++;
      }
    }
    assert.equal(executions.get('wait'), 100_000, 'each ran once');
    peer.raw.destroy();
    await checkServes(victim);
  } finally {
    await bystander.stop(2);
    await victim.close();
  }
});

test(`a frame of more than ${MAX_MESSAGES_PER_FRAME} messages is cut before any of them runs (defect D5)`, async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await authed(victim);
    const request = Buffer.from('{"jsonrpc":"2.0","id":1,"method":"victim.add","params":[1,2]}');
    await peer.raw.write(peer.seal(1, packMessages(Array.from({ length: MAX_MESSAGES_PER_FRAME + 1 }, () => request))));
    assert.equal((await within(peer.raw.closed, 3_000, 'the cut')).receivedBytes, 105, 'nothing came back');
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});

test(`100,000 one-byte invalid messages in frames at the message cap: at most ${maxParseErrors} get -32700, then the peer is cut; the event loop never blocks for half a second and a bystander is served throughout (defect D5)`, {
  timeout,
}, async () => {
  const victim = await startVictim({ encrypt: true });
  const bystander = new Bystander(victim);
  try {
    await bystander.start();
    const peer = await authed(victim);
    const frames: Buffer[] = [];
    for (let sent = 0; sent < 100_000; sent += MAX_MESSAGES_PER_FRAME) {
      frames.push(
        peer.seal(
          1,
          packMessages(
            Array.from({ length: Math.min(MAX_MESSAGES_PER_FRAME, 100_000 - sent) }, () => Buffer.from('x')),
          ),
        ),
      );
    }
    const servedBefore = bystander.served;
    const blocked = monitorEventLoopDelay({ resolution: 5 });
    blocked.enable();
    await peer.raw.write(Buffer.concat(frames));
    // At most maxParseErrors get -32700 (replies queued in the tick of the cut are dropped with it); then the peer is cut.
    let answered = 0;
    for (;;) {
      const frame = await within(peer.receive(), 10_000, 'the -32700 replies').catch(() => undefined);
      if (frame === undefined) break;
      for (const text of frame.messages) {
        assert.equal((JSON.parse(text) as { error: { code: number } }).error.code, -32700);
        answered++;
      }
    }
    await within(peer.raw.closed, 3_000, 'the server cutting the peer');
    assert.ok(answered <= maxParseErrors, `${answered} -32700 replies before the cut`);
    assert.ok(
      victim.logs.some((line) => line.msg.includes('undecodable')),
      'the cut was logged',
    );
    blocked.disable();
    const maxBlockMs = Math.round(blocked.max / 1e6);
    assert.ok(maxBlockMs < 500, `the event loop was blocked for ${maxBlockMs} ms`);
    assert.ok(bystander.served > servedBefore, 'the bystander was served during the attack');
    peer.raw.destroy();
  } finally {
    await bystander.stop(2);
    await victim.close();
  }
});
