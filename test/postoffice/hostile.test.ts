// Hostile peers against a real Listener (and a hostile server against dial()): oversized and
// truncated frames, a flipped bit at every offset, replay within and across connections,
// reordering, reflection, garbage and low-order keys in the hello. In each: nothing is delivered,
// the attacker is closed without a byte of explanation, and honest clients are still served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { dial } from '../../src/postoffice/index.js';
import type { Connection, SuiteName } from '../../src/postoffice/index.js';
import { suiteOverhead } from '../../src/postoffice/seal.js';
import { suites } from '../../src/postoffice/suite.js';
import { RawServer, RawSocket } from '../helpers/raw-socket.js';
import { GawpClient, GawpServerSide, isLowOrder, lowOrderPoints } from '../helpers/gawp-peer.js';
import {
  checkServes,
  closeOf,
  dialAccepted,
  nextMessage,
  rawClientOf,
  startEchoListener,
} from '../helpers/echo-listener.js';
import type { EchoListener } from '../helpers/echo-listener.js';

const timeout = 20_000;
const fatalCodes = ['GAW_ERR_AUTH_FAILED', 'GAW_ERR_BAD_FRAME', 'GAW_ERR_FRAME_TOO_LARGE', 'GAW_ERR_FRAME_TIMEOUT'];

/**
 * Runs `attack` against a fresh listener while an honest connection stays open, then checks that
 * the honest connection and a brand-new honest client both still work.
 */
async function underAttack(
  suite: SuiteName,
  attack: (echo: EchoListener) => Promise<void>,
  options: { frameTimeoutMs?: number; maxPayloadBytes?: number } = {},
): Promise<void> {
  const echo = await startEchoListener({
    suite,
    frameTimeoutMs: options.frameTimeoutMs ?? 60_000,
    ...(options.maxPayloadBytes ? { maxPayloadBytes: options.maxPayloadBytes } : {}),
  });
  try {
    const { client: honest } = await dialAccepted(
      echo,
      options.maxPayloadBytes ? { maxPayloadBytes: options.maxPayloadBytes } : {},
    );
    await attack(echo);
    const reply = nextMessage(honest);
    honest.send(Buffer.from('the honest connection survived'));
    assert.equal(await reply, 'the honest connection survived');
    await checkServes(echo, options.maxPayloadBytes ? { maxPayloadBytes: options.maxPayloadBytes } : {});
  } finally {
    await echo.close();
  }
}

/** Writes `bytes` after a finished handshake; the server must close with a fatal code, writing nothing. */
async function expectFatal(
  client: GawpClient,
  server: Connection,
  bytes: Buffer | Buffer[],
  codes = fatalCodes,
): Promise<string> {
  const before = client.raw.receivedBytes;
  const closed = closeOf(server);
  for (const piece of Array.isArray(bytes) ? bytes : [bytes]) await client.raw.write(piece).catch(() => {});
  const err = await closed;
  assert.ok(err && codes.includes(err.code), `closed with ${err?.code}: ${err?.message}`);
  assert.equal((await client.raw.closed).receivedBytes, before, 'nothing is written to the attacker');
  return err.code;
}

for (const suite of ['none', 'sign', 'cbc', 'secretbox'] as const) {
  test(`suite ${suite}: a length above the cap, whole or split 2+2, closes at once without waiting for a body`, {
    timeout,
  }, async () => {
    const maxPayloadBytes = 4096;
    await underAttack(
      suite,
      async (echo) => {
        // One past the largest length the cap allows (cbc may pad by up to 16 bytes).
        const overCap = maxPayloadBytes + suiteOverhead[suites[suite]] + (suite === 'cbc' ? 16 : 0) + 1;
        for (const len of [overCap, 0x7fff_ffff, 0xffff_ffff]) {
          const head = Buffer.alloc(4);
          head.writeUInt32BE(len);
          for (const pieces of [[head], [head.subarray(0, 2), head.subarray(2)]]) {
            const { client, server } = await rawClientOf(echo);
            // The frame deadline is a minute: only the length check can close this in time.
            assert.equal(
              await expectFatal(client, server, pieces, ['GAW_ERR_FRAME_TOO_LARGE']),
              'GAW_ERR_FRAME_TOO_LARGE',
            );
          }
        }
        assert.deepEqual(echo.delivered, []);
      },
      { maxPayloadBytes },
    );
  });
}

test("lengths below a suite's minimum, and a cbc length off the block size, are fatal before any body", {
  timeout,
}, async () => {
  for (const [suite, lens] of [
    ['none', [0]],
    ['sign', [0, 1, 32]],
    ['cbc', [64, 66, 80]],
    ['secretbox', [0, 17]],
  ] as const) {
    await underAttack(suite, async (echo) => {
      for (const len of lens) {
        const { client, server } = await rawClientOf(echo);
        const head = Buffer.alloc(4);
        head.writeUInt32BE(len);
        assert.equal(
          await expectFatal(client, server, head, ['GAW_ERR_BAD_FRAME']),
          'GAW_ERR_BAD_FRAME',
          `${suite} len ${len}`,
        );
      }
    });
  }
});

test('a truncated frame followed by FIN delivers nothing and closes as broken mid-frame', { timeout }, async () => {
  for (const suite of ['sign', 'cbc', 'secretbox'] as const) {
    await underAttack(suite, async (echo) => {
      const { client, server } = await rawClientOf(echo);
      const frame = client.sealMessages('cut short');
      const closed = closeOf(server);
      await client.raw.write(frame.subarray(0, frame.length - 3));
      client.raw.end();
      const err = await closed;
      assert.equal(err?.code, 'GAW_ERR_CONN_CLOSED');
      assert.match(err!.message, /middle of a frame/);
      assert.deepEqual(
        echo.delivered.filter((m) => m === 'cut short'),
        [],
      );
    });
  }
});

for (const suite of ['sign', 'cbc', 'secretbox'] as const) {
  test(`suite ${suite}: a frame with a bit flipped at any one offset is refused and delivers nothing`, {
    timeout,
  }, async () => {
    await underAttack(
      suite,
      async (echo) => {
        const probe = await rawClientOf(echo);
        const frameBytes = probe.client.sealMessages('tamper me').length;
        probe.client.raw.destroy();
        const codes = new Set<string>();
        for (let offset = 0; offset < frameBytes; offset++) {
          const { client, server } = await rawClientOf(echo);
          const frame = client.sealMessages('tamper me');
          frame[offset]! ^= 0x01;
          codes.add(await expectFatal(client, server, frame));
        }
        assert.deepEqual(echo.delivered, []);
        assert.ok(codes.has('GAW_ERR_AUTH_FAILED'));
      },
      { frameTimeoutMs: 100 },
    );
  });
}

for (const suite of ['sign', 'cbc', 'secretbox'] as const) {
  test(`suite ${suite}: a replayed, a reordered and a reflected frame are each refused`, { timeout }, async () => {
    await underAttack(suite, async (echo) => {
      // Replay within the connection: the first copy is delivered, the second kills the connection.
      const replay = await rawClientOf(echo);
      const frame = replay.client.sealMessages('only once');
      await replay.client.raw.write(frame);
      assert.deepEqual(await replay.client.receive(), { type: 1, messages: ['only once'] });
      await expectFatal(replay.client, replay.server, frame, ['GAW_ERR_AUTH_FAILED']);
      assert.deepEqual(echo.delivered, ['only once']);

      // Reordered: seq 1 sent before seq 0.
      const reorder = await rawClientOf(echo);
      const first = reorder.client.sealMessages('first');
      const second = reorder.client.sealMessages('second');
      await expectFatal(reorder.client, reorder.server, Buffer.concat([second, first]), ['GAW_ERR_AUTH_FAILED']);

      // Dropped: seq 0 never sent, seq 1 is refused.
      const drop = await rawClientOf(echo);
      drop.client.sealMessages('dropped');
      await expectFatal(drop.client, drop.server, drop.client.sealMessages('after the gap'), ['GAW_ERR_AUTH_FAILED']);

      // Reflected: the server's own frame sent back to it (the same seq as the client's next).
      const reflect = await rawClientOf(echo);
      await reflect.client.sendMessages('mirror');
      const echoed = await reflect.client.readFrame();
      await expectFatal(reflect.client, reflect.server, echoed, ['GAW_ERR_AUTH_FAILED']);

      // A frame sealed for one connection, injected into another.
      const a = await rawClientOf(echo);
      const b = await rawClientOf(echo);
      await expectFatal(b.client, b.server, a.client.sealMessages('wrong connection'), ['GAW_ERR_AUTH_FAILED']);
      a.client.raw.destroy();
      assert.deepEqual(echo.delivered, ['only once', 'mirror']);
    });
  });
}

for (const suite of ['sign', 'cbc', 'secretbox'] as const) {
  for (const hasForwardSecrecy of [true, false]) {
    test(`suite ${suite}, FS ${hasForwardSecrecy ? 'on' : 'off'}: a recorded session replayed on a new connection delivers nothing`, {
      timeout,
    }, async () => {
      await underAttack(suite, async (echo) => {
        const { client } = await rawClientOf(echo, { hasForwardSecrecy });
        await client.sendMessages('recorded one');
        await client.receive();
        await client.sendMessages('recorded two', 'recorded three');
        await client.receive();
        await client.raw.write(client.sealClose());
        const recording = client.raw.sent;
        client.raw.destroy();
        const delivered = echo.delivered.length;

        const attacker = await RawSocket.connect(echo.port);
        const failure = once(echo.events, 'authFailure');
        await attacker.write(recording);
        const [info] = await failure;
        assert.match(info.reason, /wrong client confirm/);
        const closed = await attacker.closed;
        assert.equal(closed.receivedBytes, 105, 'only the fresh ServerHello, never a frame');
        assert.equal(echo.delivered.length, delivered);
      });
    });
  }
}

test('garbage instead of a hello is dropped without an answer', { timeout }, async () => {
  await underAttack('cbc', async (echo) => {
    const garbage = [
      randomBytes(73),
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.from('42\n{"jsonrpc":"2.0","method":"x"}'),
      Buffer.concat([Buffer.from('GAWQ'), randomBytes(69)]),
      Buffer.from([0x47]),
    ];
    for (const bytes of garbage) {
      const socket = await RawSocket.connect(echo.port);
      await socket.write(bytes);
      if (bytes.length < 4) socket.end();
      const closed = await socket.closed;
      assert.equal(closed.receivedBytes, 0, bytes.subarray(0, 8).toString('hex'));
    }
    assert.ok(echo.authFailures.filter((f) => f.reason === 'not a GAWP hello').length >= 4);
    assert.equal(echo.connections.length, 1, 'only the honest connection');
  });
});

test('low-order X25519 keys in the hello are refused without an answer', { timeout }, async () => {
  await underAttack('secretbox', async (echo) => {
    for (const eph of lowOrderPoints.filter(isLowOrder)) {
      const client = await GawpClient.connect(echo.port, echo.psk);
      const failure = once(echo.events, 'authFailure');
      await client.sendHello({ suite: 'secretbox', eph });
      const [info] = await failure;
      assert.match(info.reason, /unusable X25519 key/, eph.toString('hex'));
      assert.equal((await client.raw.closed).receivedBytes, 0);
    }
    assert.deepEqual(echo.delivered, []);
  });
});

test('a dialed client refuses a server hello carrying a low-order X25519 key, writing nothing more', {
  timeout,
}, async () => {
  const server = await RawServer.start();
  const psk = randomBytes(32);
  try {
    for (const eph of lowOrderPoints.filter(isLowOrder)) {
      const dialing = dial({ host: '127.0.0.1', port: server.port, suite: 'cbc', psk });
      const side = new GawpServerSide(await server.accept());
      await side.readHello();
      await side.answer({ psk, eph });
      await assert.rejects(dialing, { code: 'GAW_ERR_BAD_HANDSHAKE', message: /unusable X25519 key/ });
      await side.raw.closed;
      assert.equal(side.raw.unreadBytes, 0, eph.toString('hex'));
    }
  } finally {
    await server.close();
  }
});

test('a dialed client refuses tampered, replayed and reflected frames from a hostile server', { timeout }, async () => {
  const server = await RawServer.start();
  const psk = randomBytes(32);
  // Each attack, and the messages that may arrive before it is caught (only a replay's first copy).
  const attacks: [string, (side: GawpServerSide, fromClient: Buffer) => Buffer[], string[]][] = [
    [
      'tampered',
      (side) => {
        const f = side.sealMessages('x');
        f[f.length - 1]! ^= 1;
        return [f];
      },
      [],
    ],
    [
      'replayed',
      (side) => {
        const f = side.sealMessages('once');
        return [f, f];
      },
      ['once'],
    ],
    [
      'reordered',
      (side) => {
        const a = side.sealMessages('a');
        const b = side.sealMessages('b');
        return [b, a];
      },
      [],
    ],
    ['reflected', (_side, fromClient) => [fromClient], []],
    ['too large', () => [Buffer.from([0xff, 0xff, 0xff, 0xff])], []],
  ];
  try {
    for (const [name, frames, expected] of attacks) {
      for (const suite of ['sign', 'cbc', 'secretbox'] as const) {
        const dialing = dial({ host: '127.0.0.1', port: server.port, suite, psk, frameTimeoutMs: 60_000 });
        const side = new GawpServerSide(await server.accept());
        await side.readHello();
        await side.answer({ psk });
        const connection = await dialing;
        assert.equal(await side.readFinish(), true);
        const delivered: string[] = [];
        connection.on('message', (m) => delivered.push(m.toString()));
        connection.send(Buffer.from('hello server'));
        const fromClient = await side.readFrame();
        const closed = closeOf(connection);
        for (const frame of frames(side, fromClient)) await side.raw.write(frame).catch(() => {});
        const err = await closed;
        assert.ok(err && fatalCodes.includes(err.code), `${name} ${suite}: ${err?.code}`);
        assert.deepEqual(delivered, expected, `${name} ${suite}`);
        await side.raw.closed;
        assert.equal(side.raw.unreadBytes, 0, `${name} ${suite}: the client wrote nothing more`);
      }
    }
  } finally {
    await server.close();
  }
});
