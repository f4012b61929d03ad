// The handshake over real sockets: each reject reason gives the client a clear message, wrong
// secrets fail on both sides, key ids select secrets, the dialer's refused/timeout errors, the
// handshake deadline on both sides, the unauthenticated cap and the busy reject.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { HandshakeRejectedError, KeyRing, dial } from '../../src/postoffice/index.js';
import type { Connection } from '../../src/postoffice/index.js';
import type { GawError } from '../../src/errors.js';
import { RawServer, RawSocket, closedPort } from '../helpers/raw-socket.js';
import { GawpClient, GawpServerSide } from '../helpers/gawp-peer.js';
import {
  checkServes,
  closeOf,
  dialAccepted,
  honestOptions,
  makeSecret,
  nextMessage,
  startEchoListener,
} from '../helpers/echo-listener.js';

const timeout = 10_000;

function rejectedWith(reason: string, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof HandshakeRejectedError, String(err));
    assert.equal(err.code, 'GAW_ERR_HANDSHAKE_REJECTED');
    assert.equal(err.reason, reason);
    assert.match(err.message, pattern);
    return true;
  };
}

test('a client offering a weaker suite than the server requires is told which suite it needs', {
  timeout,
}, async () => {
  const echo = await startEchoListener({ suite: 'cbc' });
  try {
    await assert.rejects(
      dial(honestOptions(echo, { suite: 'sign' })),
      rejectedWith('suite', /server requires suite cbc/),
    );
    await assert.rejects(
      dial(honestOptions(echo, { suite: 'none', psk: undefined })),
      rejectedWith('suite', /server requires suite cbc/),
    );
    await assert.rejects(
      dial(honestOptions(echo, { suite: 'secretbox' })),
      rejectedWith('suite', /server requires suite cbc/),
    );
    assert.equal(echo.delivered.length, 0);
    await checkServes(echo);
  } finally {
    await echo.close();
  }
});

test('a client asking for a codec the server does not take is told which codec it accepts', { timeout }, async () => {
  const echo = await startEchoListener({ suite: 'sign', codecs: ['json'] });
  try {
    await assert.rejects(
      dial(honestOptions(echo, { codec: 'msgpack' })),
      rejectedWith('codec', /server does not support codec msgpack \(it accepts json\)/),
    );
    await checkServes(echo, { codec: 'json' });
  } finally {
    await echo.close();
  }
});

test('a key id the server does not hold is rejected by name, and each held key id works with its own secret', {
  timeout,
}, async () => {
  const old = makeSecret(16);
  const current = makeSecret(32);
  const echo = await startEchoListener({ suite: 'secretbox', keyRing: new KeyRing({ 1: old, 2: current }) });
  try {
    await assert.rejects(
      dial(honestOptions(echo, { keyId: 0, psk: Buffer.from(current, 'base64') })),
      rejectedWith('keyId', /no secret with key id 0/),
    );
    await assert.rejects(
      dial(honestOptions(echo, { keyId: 9, psk: Buffer.from(current, 'base64') })),
      rejectedWith('keyId', /key id 9/),
    );
    for (const [keyId, secret] of [
      [1, old],
      [2, current],
    ] as const) {
      const connection = await dial(honestOptions(echo, { keyId, psk: Buffer.from(secret, 'base64') }));
      assert.equal(connection.keyId, keyId);
      const reply = nextMessage(connection);
      connection.send(Buffer.from(`key ${keyId}`));
      assert.equal(await reply, `key ${keyId}`);
      connection.destroy();
    }
    // The right key id with the other id's secret fails authentication.
    await assert.rejects(dial(honestOptions(echo, { keyId: 2, psk: Buffer.from(old, 'base64') })), {
      code: 'GAW_ERR_AUTH_FAILED',
    });
  } finally {
    await echo.close();
  }
});

test('a server requiring forward secrecy tells a client without it so', { timeout }, async () => {
  const echo = await startEchoListener({ suite: 'cbc', requireForwardSecrecy: true });
  try {
    await assert.rejects(
      dial(honestOptions(echo, { forwardSecrecy: false })),
      rejectedWith('flags', /server requires forward secrecy/),
    );
    const connection = await dial(honestOptions(echo));
    assert.equal(connection.hasForwardSecrecy, true);
    connection.destroy();
  } finally {
    await echo.close();
  }
});

test('without forward secrecy required, both FS on and off connect and report it', { timeout }, async () => {
  const echo = await startEchoListener({ suite: 'sign' });
  try {
    for (const forwardSecrecy of [true, false]) {
      const { client, server } = await dialAccepted(echo, { forwardSecrecy });
      assert.equal(client.hasForwardSecrecy, forwardSecrecy);
      assert.equal(server.hasForwardSecrecy, forwardSecrecy);
      client.destroy();
    }
  } finally {
    await echo.close();
  }
});

test('an unknown version, unknown flag bits and FS in suite none are rejected with their reasons', {
  timeout,
}, async () => {
  const sign = await startEchoListener({ suite: 'sign' });
  const none = await startEchoListener({ suite: 'none' });
  try {
    const cases = [
      { port: sign.port, offer: { suite: 'sign', version: 2 } as const, reason: 1, detail: 1 },
      { port: sign.port, offer: { suite: 'sign', flags: 0x09 } as const, reason: 6, detail: 0 },
      { port: sign.port, offer: { suite: 'sign', codec: 7 } as const, reason: 3, detail: 0 },
      { port: sign.port, offer: { suite: 9 } as const, reason: 2, detail: 1 },
      { port: none.port, offer: { suite: 'none', flags: 0x01 } as const, reason: 6, detail: 0 },
      { port: none.port, offer: { suite: 'none', keyId: 3 } as const, reason: 4, detail: 0 },
    ];
    for (const { port, offer, reason, detail } of cases) {
      const client = await GawpClient.connect(port, sign.psk);
      await client.sendHello(offer);
      assert.deepEqual(await client.readAnswer(), { reject: { reason, detail } }, JSON.stringify(offer));
      const closed = await client.raw.closed;
      assert.equal(closed.receivedBytes, 8, 'a reject is 8 bytes, then the server closes');
    }
    await checkServes(sign);
    await checkServes(none);
  } finally {
    await sign.close();
    await none.close();
  }
});

test('a client with the wrong secret is told the secret is probably wrong; the server reports it once and delivers nothing', {
  timeout,
}, async () => {
  for (const suite of ['sign', 'cbc', 'secretbox'] as const) {
    const echo = await startEchoListener({ suite });
    try {
      const failure = once(echo.events, 'authFailure');
      await assert.rejects(dial(honestOptions(echo, { psk: randomBytes(32) })), (err: GawError) => {
        assert.equal(err.code, 'GAW_ERR_AUTH_FAILED');
        assert.match(err.message, /authentication failed: the secret is probably wrong/);
        return true;
      });
      const [info] = await failure;
      assert.match(info.reason, /secret is probably wrong/);
      assert.match(info.peer, /^127\.0\.0\.1:\d+$/);
      assert.equal(echo.connections.length, 0);
      await checkServes(echo);
      assert.equal(echo.authFailures.length, 1, 'reported once');
    } finally {
      await echo.close();
    }
  }
});

test('a client that sends a wrong ClientFinish is closed without a byte written, and nothing is delivered', {
  timeout,
}, async () => {
  const echo = await startEchoListener({ suite: 'cbc' });
  try {
    const client = await GawpClient.connect(echo.port, echo.psk);
    await client.sendHello({ suite: 'cbc' });
    await client.readAnswer();
    const receivedAfterHello = client.raw.receivedBytes;
    const failure = once(echo.events, 'authFailure');
    // A good server confirm, then a wrong finish followed by a well-sealed frame.
    await client.finish({ finishBytes: randomBytes(32) });
    await client.sendMessages('must not arrive').catch(() => {});
    const closed = await client.raw.closed;
    assert.equal(closed.receivedBytes, receivedAfterHello);
    const [info] = await failure;
    assert.match(info.reason, /wrong client confirm/);
    assert.equal(echo.connections.length, 0);
    assert.deepEqual(echo.delivered, []);
    await checkServes(echo);
  } finally {
    await echo.close();
  }
});

test('a dialer refuses a server hello that differs from its offer, a wrong server confirm and a bad server key', {
  timeout,
}, async () => {
  const server = await RawServer.start();
  const psk = randomBytes(32);
  const cases: [string, (side: GawpServerSide) => Promise<void>, string, RegExp][] = [
    [
      'suite downgraded',
      (side) =>
        side.answer({
          psk,
          editHello: (h) => {
            h[5] = 1;
          },
        }),
      'GAW_ERR_BAD_HANDSHAKE',
      /does not match/,
    ],
    [
      'codec swapped',
      (side) =>
        side.answer({
          psk,
          editHello: (h) => {
            h[7] = 1;
          },
        }),
      'GAW_ERR_BAD_HANDSHAKE',
      /does not match/,
    ],
    [
      'FS dropped',
      (side) =>
        side.answer({
          psk,
          editHello: (h) => {
            h[6] = 0;
          },
        }),
      'GAW_ERR_BAD_HANDSHAKE',
      /does not match/,
    ],
    [
      'version changed',
      (side) =>
        side.answer({
          psk,
          editHello: (h) => {
            h[4] = 2;
          },
        }),
      'GAW_ERR_BAD_HANDSHAKE',
      /does not match/,
    ],
    [
      'confirm flipped',
      (side) =>
        side.answer({
          psk,
          tamperAfterConfirm: (h) => {
            h[100]! ^= 1;
          },
        }),
      'GAW_ERR_AUTH_FAILED',
      /secret is probably wrong/,
    ],
    [
      'random changed after the confirm',
      (side) =>
        side.answer({
          psk,
          tamperAfterConfirm: (h) => {
            h[20]! ^= 0x80;
          },
        }),
      'GAW_ERR_AUTH_FAILED',
      /secret is probably wrong/,
    ],
    [
      'another secret',
      (side) => side.answer({ psk: randomBytes(32) }),
      'GAW_ERR_AUTH_FAILED',
      /secret is probably wrong/,
    ],
    [
      'low-order server key',
      (side) => side.answer({ psk, eph: Buffer.alloc(32) }),
      'GAW_ERR_BAD_HANDSHAKE',
      /unusable X25519 key/,
    ],
    [
      'an HTTP answer',
      (side) => side.raw.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')),
      'GAW_ERR_BAD_HANDSHAKE',
      /did not answer with a GAWP\/1 hello/,
    ],
    [
      'an unknown reject reason',
      (side) => side.reject({ reason: 77, detail: 0 }),
      'GAW_ERR_HANDSHAKE_REJECTED',
      /reason 77/,
    ],
    ['a busy reject', (side) => side.reject({ reason: 5, detail: 0 }), 'GAW_ERR_HANDSHAKE_REJECTED', /server is busy/],
    ['a version reject', (side) => side.reject({ reason: 1, detail: 1 }), 'GAW_ERR_HANDSHAKE_REJECTED', /version 1/],
    [
      'a close before the hello',
      async (side) => side.raw.end(),
      'GAW_ERR_CONN_CLOSED',
      /closed the connection during the handshake/,
    ],
  ];
  try {
    for (const [name, play, code, pattern] of cases) {
      const dialing = dial({ host: '127.0.0.1', port: server.port, suite: 'cbc', psk });
      const side = new GawpServerSide(await server.accept());
      await side.readHello();
      await play(side);
      await assert.rejects(dialing, (err: GawError) => {
        assert.equal(err.code, code, `${name}: ${err.message}`);
        assert.match(err.message, pattern, name);
        assert.equal((err as { mayHaveReachedServer?: boolean }).mayHaveReachedServer ?? false, false);
        return true;
      });
      await side.raw.closed;
      assert.equal(side.raw.unreadBytes, 0, `${name}: the dialer sent nothing after the hello`);
    }
  } finally {
    await server.close();
  }
});

test('a refused connection gives GAW_ERR_CONN_REFUSED', { timeout }, async () => {
  const port = await closedPort();
  await assert.rejects(dial({ host: '127.0.0.1', port, suite: 'sign', psk: randomBytes(32) }), (err: GawError) => {
    assert.equal(err.code, 'GAW_ERR_CONN_REFUSED');
    assert.match(err.message, new RegExp(`connection refused by 127.0.0.1:${port}`));
    assert.equal((err as { mayHaveReachedServer?: boolean }).mayHaveReachedServer, false);
    return true;
  });
});

test('a connect that has not completed when its deadline fires gives GAW_ERR_CONNECT_TIMEOUT', {
  timeout,
}, async () => {
  // Deterministic without an unroutable address: the 1 ms timer is due before the event loop's next
  // poll phase (timers run first in every loop turn), and this turn is held past it, so the
  // connect can only be seen after the deadline has fired.
  const echo = await startEchoListener({ suite: 'sign' });
  try {
    const dialing = dial(honestOptions(echo, { connectTimeoutMs: 1 }));
    const until = performance.now() + 5;
    while (performance.now() < until) {
      /* hold this turn of the event loop past the deadline */
    }
    await assert.rejects(dialing, (err: GawError) => {
      assert.equal(err.code, 'GAW_ERR_CONNECT_TIMEOUT');
      assert.match(err.message, /took longer than 1 ms/);
      return true;
    });
    await checkServes(echo);
  } finally {
    await echo.close();
  }
});

test('an aborted dial rejects with GAW_ERR_ABORTED, before and during the handshake', { timeout }, async () => {
  const server = await RawServer.start();
  try {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      dial({ host: '127.0.0.1', port: server.port, suite: 'sign', psk: randomBytes(32), signal: controller.signal }),
      { name: 'AbortError', code: 'GAW_ERR_ABORTED' },
    );
    const during = new AbortController();
    const dialing = dial({
      host: '127.0.0.1',
      port: server.port,
      suite: 'sign',
      psk: randomBytes(32),
      signal: during.signal,
    });
    const side = new GawpServerSide(await server.accept());
    await side.readHello();
    during.abort();
    await assert.rejects(dialing, { code: 'GAW_ERR_ABORTED' });
    await side.raw.closed;
  } finally {
    await server.close();
  }
});

test("a server that never answers the hello hits the dialer's handshake deadline", { timeout }, async () => {
  const server = await RawServer.start();
  try {
    const dialing = dial({
      host: '127.0.0.1',
      port: server.port,
      suite: 'sign',
      psk: randomBytes(32),
      handshakeTimeoutMs: 40,
    });
    const side = new GawpServerSide(await server.accept());
    await side.readHello();
    await side.raw.write(Buffer.from('GAWP\x01'));
    await assert.rejects(dialing, (err: GawError) => {
      assert.equal(err.code, 'GAW_ERR_HANDSHAKE_TIMEOUT');
      assert.match(err.message, /did not finish within 40 ms/);
      return true;
    });
    await side.raw.closed;
  } finally {
    await server.close();
  }
});

test("a slow client hits the listener's handshake deadline at every stage, and others are still served", {
  timeout,
}, async () => {
  const echo = await startEchoListener({ suite: 'sign', handshakeTimeoutMs: 60 });
  try {
    const stages: [string, (client: GawpClient) => Promise<void>][] = [
      ['silent after connect', async () => {}],
      ['half a hello', (client) => client.raw.write(client.buildHello({ suite: 'sign' }).subarray(0, 40))],
      [
        'a hello one byte at a time, then silence',
        (client) => client.raw.writeInPieces(client.buildHello({ suite: 'sign' }).subarray(0, 10)),
      ],
      [
        'no ClientFinish',
        async (client) => {
          await client.sendHello({ suite: 'sign' });
          await client.readAnswer();
        },
      ],
      [
        'half a ClientFinish',
        async (client) => {
          await client.sendHello({ suite: 'sign' });
          await client.readAnswer();
          await client.raw.write(Buffer.alloc(16));
        },
      ],
    ];
    for (const [name, play] of stages) {
      const client = await GawpClient.connect(echo.port, echo.psk);
      const failure = once(echo.events, 'authFailure');
      await play(client);
      const before = client.raw.receivedBytes;
      const [info] = await failure;
      assert.equal(info.reason, 'handshake timeout', name);
      const closed = await client.raw.closed;
      assert.equal(closed.receivedBytes, before, `${name}: nothing written at the deadline`);
    }
    assert.equal(echo.connections.length, 0);
    await checkServes(echo);
  } finally {
    await echo.close();
  }
});

test('a rejected client that never closes is dropped at the handshake deadline and not kept open', {
  timeout,
}, async () => {
  const echo = await startEchoListener({ suite: 'cbc', handshakeTimeoutMs: 50, maxUnauthenticated: 4 });
  try {
    const client = await GawpClient.connect(echo.port, echo.psk, { allowHalfOpen: true });
    await client.sendHello({ suite: 'sign' });
    assert.deepEqual(await client.readAnswer(), { reject: { reason: 2, detail: 2 } });
    // The client keeps its side open. Once the server has let go of the socket, the next probe
    // byte is answered with a reset; a server that held it forever would let this test time out.
    const probe = setInterval(() => client.raw.socket.write('x'), 5);
    await client.raw.closed;
    clearInterval(probe);
    assert.equal(echo.listener.unauthenticatedCount, 0);
    assert.equal(echo.authFailures.length, 0, 'a reject is not an authentication failure');
  } finally {
    await echo.close();
  }
});

test('at 128 unauthenticated sockets the oldest is dropped, and an honest client still gets through', {
  timeout,
}, async () => {
  const echo = await startEchoListener({ suite: 'sign' });
  const idle: RawSocket[] = [];
  try {
    for (let i = 0; i < 128; i++) idle.push(await RawSocket.connect(echo.port));
    // The honest client is accepted after all 128 (the accept queue is first in, first out).
    await checkServes(echo);
    const first = await idle[0]!.closed;
    assert.equal(first.receivedBytes, 0);
    assert.equal(idle.filter((s) => s.isClosed).length, 1, 'only the oldest was dropped');
    assert.equal(echo.listener.unauthenticatedCount, 127);
    // Two more idle sockets: the first fills the cap again, the second pushes out the next oldest.
    idle.push(await RawSocket.connect(echo.port), await RawSocket.connect(echo.port));
    await idle[1]!.closed;
    assert.equal(idle.filter((s) => s.isClosed).length, 2);
  } finally {
    for (const socket of idle) socket.destroy();
    await echo.close();
  }
});

test('past maxConnections new clients are rejected as busy, and are taken again once one closes', {
  timeout,
}, async () => {
  const echo = await startEchoListener({ suite: 'sign', maxConnections: 2 });
  const open: Connection[] = [];
  // Waits for the server to count the connection too, so the next dial sees it.
  const connect = async () => {
    open.push((await dialAccepted(echo)).client);
  };
  try {
    await connect();
    await connect();
    await assert.rejects(dial(honestOptions(echo)), rejectedWith('busy', /server is busy \(too many connections\)/));
    const serverSide = echo.connections[0]!;
    const closed = closeOf(serverSide);
    open[0]!.destroy();
    await closed;
    assert.equal(echo.listener.connectionCount, 1);
    await connect();
    await checkServes(echo).then(
      () => assert.fail('a third connection must be busy'),
      (err: GawError) => assert.equal(err.code, 'GAW_ERR_HANDSHAKE_REJECTED'),
    );
  } finally {
    for (const connection of open) connection.destroy();
    await echo.close();
  }
});

test('hellos stalled by peers without the secret do not make honest clients busy', { timeout }, async () => {
  const echo = await startEchoListener({ suite: 'sign', maxConnections: 1 });
  try {
    const stalled: GawpClient[] = [];
    for (let i = 0; i < 3; i++) {
      const stranger = await GawpClient.connect(echo.port, randomBytes(32));
      await stranger.sendHello({ suite: 'sign' });
      assert.ok('hello' in (await stranger.readAnswer()));
      stalled.push(stranger);
    }
    // Only authenticated connections count: the honest client gets the one place.
    await checkServes(echo);
    for (const stranger of stalled) assert.equal(stranger.raw.isClosed, false);
  } finally {
    await echo.close();
  }
});

test('closing the listener stops accepting at once, drops handshakes in progress and leaves connections to their owner', {
  timeout,
}, async () => {
  const echo = await startEchoListener({ suite: 'cbc' });
  const { client } = await dialAccepted(echo);
  const pending = await GawpClient.connect(echo.port, echo.psk);
  await pending.sendHello({ suite: 'cbc' });
  await pending.readAnswer();
  await echo.listener.close();
  await echo.listener.close();
  assert.equal((await pending.raw.closed).receivedBytes, 105, 'the half-done handshake is dropped');
  await assert.rejects(dial(honestOptions(echo)), { code: 'GAW_ERR_CONN_REFUSED' });
  const reply = nextMessage(client);
  client.send(Buffer.from('still connected'));
  assert.equal(await reply, 'still connected');
  await echo.close();
});
