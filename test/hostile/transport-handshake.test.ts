// Handshake attacks on a real GawServer from peers without the secret: garbage and legacy bytes,
// hellos with a wrong magic, version, suite, flags, codec or key id, low-order X25519 keys, a
// handshake sent a byte at a time, stalled hellos. Each must get nothing back, or exactly the
// ServerReject / ServerHello that PROTOCOL.md prescribes, must run no handler, and must leave the
// server serving. Downgrades, wrong secrets and reflection are in transport-downgrade.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { encodeReject } from '../../src/postoffice/handshake.js';
import { GawpClient, lowOrderPoints } from '../helpers/gawp-peer.js';
import { within, until } from '../helpers/server-fixtures.js';
import { checkServes as checkEchoServes, startEchoListener } from '../helpers/echo-listener.js';
import { assertUnharmed, startVictim } from './helpers/victim.js';
import { answerTo, hello } from './helpers/hello.js';

test('garbage, HTTP, legacy Gaw frames, a wrong magic and truncated hellos get zero bytes back and the socket is closed', async () => {
  const victim = await startVictim({ encrypt: true, handshakeTimeoutMs: 1_000 });
  try {
    const attacks: [string, Buffer, boolean][] = [
      ['73 random bytes', Buffer.concat([Buffer.from([0x00]), randomBytes(72)]), false],
      ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), false],
      ['a legacy Gaw 0.7 frame', Buffer.from('52\n{"service": "victim", "method": "add", "args": [1, 2]}'), false],
      ['a TLS ClientHello', Buffer.from('160301020001000100', 'hex'), false],
      [
        '"GAWX" and a hello body',
        Buffer.concat([Buffer.from('GAWX'), hello({ suite: 2, flags: 1 }).subarray(4)]),
        false,
      ],
      ['"gawp" in lower case', Buffer.concat([Buffer.from('gawp'), hello({ suite: 2, flags: 1 }).subarray(4)]), false],
      ['40 bytes of a hello then FIN', hello({ suite: 2, flags: 1 }).subarray(0, 40), true],
      ['the magic alone then FIN', Buffer.from('GAWP'), true],
      ['an empty connection then FIN', Buffer.alloc(0), true],
      ['64 KiB of zeros', Buffer.alloc(64 * 1024), false],
    ];
    for (const [what, bytes, fin] of attacks) {
      const answer = await answerTo(victim, bytes, { fin });
      assert.equal(answer.length, 0, `${what}: the server wrote ${answer.length} bytes`);
    }
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});

test('a hello with a wrong version, suite, flags, codec or key id gets exactly one 8-byte ServerReject naming the reason', async () => {
  const victim = await startVictim({ encrypt: true, codecs: ['json'], handshakeTimeoutMs: 1_000 });
  try {
    // reason: 1 version, 2 suite, 3 codec, 4 key_id, 6 flags; the detail says what the server wants.
    const attacks: [string, Buffer, Buffer][] = [
      ['version 2', hello({ version: 2, suite: 2, flags: 1 }), encodeReject(1, 1)],
      ['version 0', hello({ version: 0, suite: 2, flags: 1 }), encodeReject(1, 1)],
      ['version 255', hello({ version: 255, suite: 2, flags: 1 }), encodeReject(1, 1)],
      ['suite 4', hello({ suite: 4, flags: 1 }), encodeReject(2, 2)],
      ['suite 255 (the reject marker)', hello({ suite: 255, flags: 1 }), encodeReject(2, 2)],
      ['flags 0x08 (a bit no extension uses)', hello({ suite: 2, flags: 0x09 }), encodeReject(6, 0)],
      ['flags 0xFF', hello({ suite: 2, flags: 0xff }), encodeReject(6, 0)],
      ['codec msgpack on a json-only server', hello({ suite: 2, flags: 1, codec: 1 }), encodeReject(3, 0)],
      ['codec 7', hello({ suite: 2, flags: 1, codec: 7 }), encodeReject(3, 0)],
      ['key id 9, not held', hello({ suite: 2, flags: 1, keyId: 9 }), encodeReject(4, 0)],
    ];
    for (const [what, bytes, reject] of attacks) {
      const answer = await answerTo(victim, bytes, { fin: true });
      assert.deepEqual(answer, reject, `${what}: exactly the ServerReject`);
    }
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});

test('every low-order X25519 public key is refused with zero bytes written back', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    // RFC 7748 decoding clears bit 255, so only the encodings with it clear are low-order points here.
    const lowOrder = lowOrderPoints.filter((point) => (point[31]! & 0x80) === 0);
    assert.equal(lowOrder.length, 7);
    for (const point of lowOrder) {
      const peer = await GawpClient.connect(victim.port);
      await peer.sendHello({ suite: 'cbc', eph: point });
      const closed = await within(peer.raw.closed, 3_000, `the server refusing ${point.toString('hex')}`);
      assert.equal(closed.receivedBytes, 0, `key ${point.toString('hex')}: nothing came back`);
    }
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});

test('the high-bit encodings of low-order points decode (bit 255 cleared) to ordinary keys: a ServerHello, and still no session without the secret', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    for (const point of lowOrderPoints.filter((p) => (p[31]! & 0x80) !== 0)) {
      const peer = await GawpClient.connect(victim.port);
      await peer.sendHello({ suite: 'cbc', eph: point });
      const answer = await peer.readAnswer();
      assert.ok('hello' in answer, `key ${point.toString('hex')}: the server answered with its hello`);
      await peer.raw.write(randomBytes(32 + 100)).catch(() => {});
      assert.equal(
        (await within(peer.raw.closed, 3_000, 'the server closing')).receivedBytes,
        105,
        'nothing after the ServerHello',
      );
    }
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});

test('a handshake sent one byte per 100 ms is cut at handshakeTimeoutMs (300 ms) with nothing written back', async () => {
  const victim = await startVictim({ encrypt: true, handshakeTimeoutMs: 300 });
  try {
    const peer = await GawpClient.connect(victim.port);
    const bytes = peer.buildHello({ suite: 'cbc' });
    const startMs = Date.now();
    for (let i = 0; i < bytes.length && !peer.raw.isClosed; i++) {
      await peer.raw.write(bytes.subarray(i, i + 1)).catch(() => {});
      await Promise.race([delay(100), peer.raw.closed]);
    }
    const closed = await within(peer.raw.closed, 3_000, 'the handshake deadline');
    assert.equal(closed.receivedBytes, 0);
    assert.ok(Date.now() - startMs < 2_000, 'cut near the deadline, not after the whole hello');
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});

test('a ClientFinish sent one byte per 100 ms is cut at handshakeTimeoutMs after the ServerHello and nothing more', async () => {
  const victim = await startVictim({ encrypt: true, handshakeTimeoutMs: 300 });
  try {
    const peer = await GawpClient.connect(victim.port);
    await peer.sendHello({ suite: 'cbc' });
    await peer.readAnswer();
    const startMs = Date.now();
    for (let i = 0; i < 32 && !peer.raw.isClosed; i++) {
      await peer.raw.write(Buffer.from([i])).catch(() => {});
      await Promise.race([delay(100), peer.raw.closed]);
    }
    const closed = await within(peer.raw.closed, 3_000, 'the handshake deadline');
    assert.equal(closed.receivedBytes, 105, 'only the ServerHello');
    // The whole finish would take 3.2 s: a cut within 2 s is the deadline's.
    assert.ok(Date.now() - startMs < 2_000, `cut after ${Date.now() - startMs} ms, not after the whole finish`);
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});

test('hellos stalled by peers without the secret do not make the server refuse honest clients as busy (defect D4)', async () => {
  const victim = await startVictim({ encrypt: true, maxConnections: 8 });
  try {
    const stalled: GawpClient[] = [];
    for (let i = 0; i < 8; i++) {
      const peer = await GawpClient.connect(victim.port);
      await peer.sendHello({ suite: 'cbc' });
      await peer.readAnswer();
      stalled.push(peer);
    }
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});

test('handshake failures leave the unauthenticated count at zero once the peers are gone', async () => {
  // GawServer counts only authenticated connections: the listener underneath shows the handshakes.
  const echo = await startEchoListener({ suite: 'cbc', handshakeTimeoutMs: 500 });
  try {
    const peers = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const peer = await GawpClient.connect(echo.port);
        if (i % 3 === 0) await peer.sendHello({ suite: 'cbc', eph: lowOrderPoints[0] });
        else if (i % 3 === 1) await peer.sendHello({ suite: 'sign' });
        else await peer.raw.write(Buffer.from('GAWP'));
        return peer;
      }),
    );
    for (const peer of peers) await within(peer.raw.closed, 3_000, 'every failed handshake closing');
    await until(() => echo.listener.unauthenticatedCount === 0, 'no unauthenticated socket left');
    assert.equal(echo.connections.length, 0, 'no connection was authenticated');
    await checkEchoServes(echo);
  } finally {
    await echo.close();
  }
});
