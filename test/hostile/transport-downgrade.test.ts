// Attacks on authentication itself against a real GawServer: downgrades offered by a client and
// forced by a man in the middle who rewrites the hellos, a wrong secret, and hellos or confirms
// reflected back at the server. None may yield a session, run a handler, or leak a secret; the
// wire answer is only what PROTOCOL.md prescribes (a ServerReject, or a ServerHello and nothing more).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { GawClient } from '../../src/client/index.js';
import type { GawError } from '../../src/errors.js';
import { dial } from '../../src/postoffice/index.js';
import { encodeReject, generateEphemeral } from '../../src/postoffice/handshake.js';
import { GawpClient } from '../helpers/gawp-peer.js';
import { RawSocket } from '../helpers/raw-socket.js';
import { startEchoListener, honestOptions } from '../helpers/echo-listener.js';
import { within } from '../helpers/server-fixtures.js';
import { TcpProxy, rewrites, setByte, setBytes } from './helpers/proxy.js';
import type { ProxyOptions } from './helpers/proxy.js';
import { assertNoLeak, assertUnharmed, startVictim } from './helpers/victim.js';
import { answerTo, hello } from './helpers/hello.js';

test('a downgrade offered to a server that requires cbc (sign, none, secretbox, no forward secrecy when required) is rejected, never served', async () => {
  const victim = await startVictim({ encrypt: true, requireForwardSecrecy: true });
  try {
    assert.deepEqual(await answerTo(victim, hello({ suite: 1, flags: 1 }), { fin: true }), encodeReject(2, 2), 'sign');
    assert.deepEqual(await answerTo(victim, hello({ suite: 0, flags: 0 }), { fin: true }), encodeReject(2, 2), 'none');
    assert.deepEqual(
      await answerTo(victim, hello({ suite: 3, flags: 1 }), { fin: true }),
      encodeReject(2, 2),
      'secretbox',
    );
    assert.deepEqual(
      await answerTo(victim, hello({ suite: 2, flags: 0 }), { fin: true }),
      encodeReject(6, 1),
      'cbc without FS',
    );
    // The client library never falls back either: a signing client is refused, and says why.
    const signing = new GawClient({ port: victim.port, secret: victim.secret, retries: 0 });
    await assert.rejects(signing.call('victim.add', [1, 2]), (err: GawError) => {
      assert.equal(err.code, 'GAW_ERR_HANDSHAKE_REJECTED');
      assert.match(err.message, /requires suite cbc/);
      return true;
    });
    signing.destroy();
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});

test('a man in the middle who rewrites the suite or strips forward secrecy in the hellos is caught by the hello check or the transcript confirm', async () => {
  // A listener that would accept either suite, so only the transcript can catch the rewrite.
  const echo = await startEchoListener({ suite: 'cbc', suites: ['sign', 'cbc'] });
  const attacks: [string, ProxyOptions, string][] = [
    ['the client suite rewritten to sign', { toServer: setByte(5, 1) }, 'GAW_ERR_BAD_HANDSHAKE'],
    [
      'the suite rewritten to sign both ways',
      { toServer: setByte(5, 1), toClient: setByte(5, 2) },
      'GAW_ERR_AUTH_FAILED',
    ],
    [
      'the FS flag stripped both ways (the server key is then all zeros)',
      { toServer: setByte(6, 0), toClient: setByte(6, 1) },
      'GAW_ERR_BAD_HANDSHAKE',
    ],
    [
      "the FS flag stripped and the attacker's own key put in the ServerHello",
      {
        toServer: setByte(6, 0),
        toClient: rewrites(setByte(6, 1), setBytes(41, generateEphemeral().publicKey)),
      },
      'GAW_ERR_AUTH_FAILED',
    ],
    [
      "the client key replaced by the attacker's",
      { toServer: setBytes(41, generateEphemeral().publicKey) },
      'GAW_ERR_AUTH_FAILED',
    ],
    ['the codec rewritten both ways', { toServer: setByte(7, 1), toClient: setByte(7, 0) }, 'GAW_ERR_AUTH_FAILED'],
    ['one bit of the client random flipped', { toServer: setByte(20, 0x5a) }, 'GAW_ERR_AUTH_FAILED'],
  ];
  try {
    for (const [what, rewrite, code] of attacks) {
      const proxy = await TcpProxy.start(echo.port, rewrite);
      try {
        await assert.rejects(dial(honestOptions(echo, { port: proxy.port })), (err: GawError) => {
          assert.equal(err.code, code, `${what}: ${err.message}`);
          return true;
        });
      } finally {
        await proxy.close();
      }
    }
    assert.deepEqual(echo.delivered, [], 'nothing reached the owner');
    assert.equal(echo.connections.length, 0, 'no connection was authenticated');
  } finally {
    await echo.close();
  }
});

test('a wrong secret: the server writes only its ServerHello, never reads a frame, and the client error names the likely cause without either secret', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const wrong = randomBytes(32);
    const peer = await GawpClient.connect(victim.port, wrong);
    await peer.sendHello({ suite: 'cbc' });
    await peer.readAnswer();
    await assert.rejects(peer.finish(), /server confirm is wrong/);
    // Send what a wrong-secret client would: a confirm and a request sealed under its own keys.
    await peer.raw.write(Buffer.concat([randomBytes(32), randomBytes(200)])).catch(() => {});
    const closed = await within(peer.raw.closed, 3_000, 'the server closing');
    assert.equal(closed.receivedBytes, 105);

    const wrongSecret = wrong.toString('base64');
    const client = new GawClient({ port: victim.port, secret: wrongSecret, encrypt: true, retries: 0 });
    await assert.rejects(client.call('victim.add', [1, 2]), (err: GawError) => {
      assert.equal(err.code, 'GAW_ERR_AUTH_FAILED');
      assert.match(err.message, /secret is probably wrong/);
      assertNoLeak(`${err.message}\n${String(err.cause ?? '')}`.replace(/\n\s+at .*/g, ''), victim, 'the error');
      assert.ok(!err.message.includes(wrongSecret));
      return true;
    });
    client.destroy();
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});

test('a ServerHello reflected back as a ClientHello, and a server confirm reflected as the ClientFinish, get no session', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const first = await GawpClient.connect(victim.port);
    await first.sendHello({ suite: 'cbc' });
    await first.readAnswer();
    const serverHello = first.serverHello!;
    // The server's own confirm as the client's finish.
    await first.raw.write(serverHello.subarray(73, 105));
    assert.equal((await within(first.raw.closed, 3_000, 'the server closing')).receivedBytes, 105);
    // The whole ServerHello as a ClientHello (73 bytes) and ClientFinish (its confirm) on a new connection.
    const second = await RawSocket.connect(victim.port);
    await second.write(serverHello);
    assert.equal((await within(second.closed, 3_000, 'the server closing')).receivedBytes, 105);
    await assertUnharmed(victim);
  } finally {
    await victim.close();
  }
});
