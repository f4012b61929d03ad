// Round trips through a real Listener and dial() for every suite x forward secrecy x codec byte:
// payloads from 1 byte to the cap, one real 16 MiB message, 10,000 frames each way on one
// connection, frames fed one byte at a time, and messages of one tick leaving in one frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import type { Connection, SuiteName } from '../../src/postoffice/index.js';
import { GawpClient } from '../helpers/gawp-peer.js';
import { dialAccepted, nextMessage, rawClientOf, startEchoListener } from '../helpers/echo-listener.js';

const timeout = 20_000;
const capBytes = 64 * 1024;

/** Collects every message a connection emits (copied) until `count` have arrived. */
function collect(connection: Connection, count: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const onMessage = (message: Buffer) => {
      out.push(Buffer.from(message));
      if (out.length === count) {
        connection.off('message', onMessage);
        connection.off('close', onClose);
        resolve(out);
      }
    };
    const onClose = (err: unknown) => reject(err ?? new Error(`closed after ${out.length} of ${count} messages`));
    connection.on('message', onMessage);
    connection.once('close', onClose);
  });
}

const combos: { suite: SuiteName; forwardSecrecy: boolean }[] = [
  { suite: 'none', forwardSecrecy: false },
  ...(['sign', 'cbc', 'secretbox'] as const).flatMap((suite) => [
    { suite, forwardSecrecy: true },
    { suite, forwardSecrecy: false },
  ]),
];

for (const { suite, forwardSecrecy } of combos) {
  for (const [codec, callContext] of [
    ['json', false],
    ['msgpack', false],
    ['json', true],
  ] as const) {
    test(`suite ${suite}, FS ${forwardSecrecy ? 'on' : 'off'}, codec ${codec}, CTX ${callContext ? 'on' : 'off'}: messages of 1 byte up to the cap go both ways intact`, {
      timeout,
    }, async () => {
      const echo = await startEchoListener({ suite, maxPayloadBytes: capBytes });
      try {
        const { client, server } = await dialAccepted(echo, {
          codec,
          forwardSecrecy,
          maxPayloadBytes: capBytes,
          callContext,
        });
        assert.equal(client.suite, suite);
        assert.equal(client.codec, codec);
        assert.equal(server.codec, codec);
        assert.equal(client.hasForwardSecrecy, forwardSecrecy);
        assert.equal(client.hasCallContext, callContext);
        assert.equal(server.hasCallContext, callContext);
        // With CTX every message carries a kind byte.
        const limit = capBytes - 4 - (callContext ? 1 : 0);
        assert.equal(client.maxMessageBytes, limit);
        const sizes = [1, 2, 15, 16, 17, 31, 32, 33, 1000, 4096, limit - 1, limit];
        for (const size of sizes) {
          const message = randomBytes(size);
          const reply = collect(client, 1);
          client.send(message);
          assert.ok((await reply)[0]!.equals(message), `${size} bytes`);
        }
        // One byte past the cap is refused before anything is sent.
        assert.throws(() => client.send(Buffer.alloc(limit + 1)), { code: 'GAW_ERR_FRAME_TOO_LARGE' });
        assert.throws(() => client.send(Buffer.alloc(0)), { code: 'GAW_ERR_BAD_FRAME' });
        // Text goes as UTF-8, counted by bytes against the cap: a 3-byte character at the very end.
        const atCap = `${'a'.repeat(limit - 3)}€`;
        for (const text of ['x', 'ü🎉 mixed text', atCap]) {
          const reply = collect(client, 1);
          client.send(text);
          assert.equal((await reply)[0]!.toString('utf8'), text);
        }
        assert.throws(() => client.send(`${atCap}a`), { code: 'GAW_ERR_FRAME_TOO_LARGE' });
        assert.throws(() => client.send(''), { code: 'GAW_ERR_BAD_FRAME' });
        // Many messages in one tick, bytes and text, together past the cap: split into frames, order kept.
        const burst = Array.from({ length: 40 }, (_, i) => {
          const bytes = randomBytes(1 + ((i * 2_711) % 9_000));
          return i % 3 === 0 ? `ü${bytes.toString('base64')}` : bytes;
        });
        const replies = collect(client, burst.length);
        for (const message of burst) client.send(message);
        const got = await replies;
        for (const [i, message] of burst.entries())
          assert.ok(got[i]!.equals(typeof message === 'string' ? Buffer.from(message) : message), `burst message ${i}`);
        assert.equal(client.isClosed, false);
        await client.close();
      } finally {
        await echo.close();
      }
    });
  }
}

test('one real 16 MiB message crosses a cbc connection at the default cap', { timeout }, async () => {
  const echo = await startEchoListener({ suite: 'cbc', echo: false });
  try {
    const { client, server } = await dialAccepted(echo);
    // The kind byte of the call-context extension (on by default) is the fifth byte of overhead.
    const message = randomBytes(16 * 1024 * 1024 - 5);
    assert.equal(client.maxMessageBytes, message.length);
    const arrived = collect(server, 1);
    client.send(message);
    const [got] = await arrived;
    assert.equal(createHash('sha256').update(got!).digest('hex'), createHash('sha256').update(message).digest('hex'));
    assert.throws(() => client.send(Buffer.alloc(16 * 1024 * 1024 - 4)), { code: 'GAW_ERR_FRAME_TOO_LARGE' });
    client.destroy();
  } finally {
    await echo.close();
  }
});

test('10,000 frames each way cross one cbc connection in order', { timeout }, async () => {
  const echo = await startEchoListener({ suite: 'cbc' });
  try {
    const { client } = await dialAccepted(echo);
    // Awaiting each echo puts every send in its own tick: one frame each, both ways.
    for (let i = 0; i < 10_000; i++) {
      const reply = nextMessage(client);
      client.send(Buffer.from(`frame ${i}`));
      assert.equal(await reply, `frame ${i}`);
    }
    assert.equal(echo.delivered.length, 10_000);
    await client.close();
  } finally {
    await echo.close();
  }
});

test("a raw peer counts 10,000 separately sealed frames each way, and one frame for a tick's messages", {
  timeout,
}, async () => {
  const echo = await startEchoListener({ suite: 'sign' });
  try {
    const { client, server } = await rawClientOf(echo);
    for (let i = 0; i < 10_000; i++) {
      await client.sendMessages(`m${i}`);
      assert.deepEqual(await client.receive(), { type: 1, messages: [`m${i}`] });
    }
    assert.equal(client.sealer!.seq, 10_000);
    assert.equal(client.opener!.seq, 10_000);
    // Three messages queued in one tick leave in exactly one DATA frame.
    server.send(Buffer.from('a'));
    server.send(Buffer.from('bb'));
    server.send(Buffer.from('ccc'));
    assert.deepEqual(await client.receive(), { type: 1, messages: ['a', 'bb', 'ccc'] });
    assert.equal(client.opener!.seq, 10_001);
    // And one more in a later tick is a frame of its own.
    server.send(Buffer.from('d'));
    assert.deepEqual(await client.receive(), { type: 1, messages: ['d'] });
    assert.equal(client.raw.unreadBytes, 0);
  } finally {
    await echo.close();
  }
});

for (const suite of ['none', 'sign', 'cbc', 'secretbox'] as const) {
  test(`suite ${suite}: frames written one byte at a time, the first sharing the ClientFinish write, are delivered whole`, {
    timeout,
  }, async () => {
    const echo = await startEchoListener({ suite });
    try {
      const accepted = once(echo.events, 'connection');
      const client = await GawpClient.connect(echo.port, echo.psk);
      await client.sendHello({ suite });
      await client.readAnswer();
      // The ClientFinish (none in suite none) and the first frame go out as one stream of 1-byte writes.
      await client.finish({ firstMessages: ['early', 'bird'], pieceBytes: 1 });
      const long = randomBytes(300).toString('hex');
      await client.raw.writeInPieces(client.sealMessages(long), 1);
      await accepted;
      // The echoes may come back coalesced into fewer frames; the messages and their order may not change.
      const echoed: string[] = [];
      while (echoed.length < 3) echoed.push(...(await client.receive()).messages);
      assert.deepEqual(echoed, ['early', 'bird', long]);
      assert.deepEqual(echo.delivered, ['early', 'bird', long]);
    } finally {
      await echo.close();
    }
  });
}

test('frames split at every byte offset across two writes are each delivered whole', { timeout }, async () => {
  for (const suite of ['sign', 'cbc', 'secretbox'] as const) {
    const echo = await startEchoListener({ suite, echo: false });
    try {
      const client = await GawpClient.handshake(echo.port, echo.psk, { suite });
      // The k-th frame is cut after byte k, from inside the length prefix to just before the end.
      const expected: string[] = [];
      let frame = client.sealMessages('split me');
      const frameBytes = frame.length;
      for (let cut = 1; cut < frameBytes; cut++) {
        if (cut > 1) frame = client.sealMessages('split me');
        await client.raw.write(frame.subarray(0, cut));
        await client.raw.write(frame.subarray(cut));
        expected.push('split me');
      }
      const last = `last ${suite}`;
      const done = new Promise<void>((resolve, reject) => {
        echo.events.on('delivered', (m) => m === last && resolve());
        echo.events.once('closed', (err) => reject(err ?? new Error('closed')));
      });
      await client.sendMessages(last);
      await done;
      assert.deepEqual(echo.delivered, [...expected, last]);
    } finally {
      await echo.close();
    }
  }
});

test('a first frame in the same write as the ClientFinish is delivered, in every suite', { timeout }, async () => {
  for (const suite of ['none', 'sign', 'cbc', 'secretbox'] as const) {
    const echo = await startEchoListener({ suite });
    try {
      const client = await GawpClient.connect(echo.port, echo.psk);
      await client.sendHello({ suite });
      await client.readAnswer();
      await client.finish({ firstMessages: ['right behind the finish'] });
      assert.deepEqual(await client.receive(), { type: 1, messages: ['right behind the finish'] }, suite);
    } finally {
      await echo.close();
    }
  }
});
