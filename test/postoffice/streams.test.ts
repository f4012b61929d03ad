// The stream extension of GAWP/1 (flags bit 2, with CTX): its entries byte for byte against the
// known-answer vectors in test/fixtures (written independently, in Python), the handshake that
// turns it on only when both sides set it and CTX is on, and peers that break its entry rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  FLAG_CTX,
  FLAG_STREAM,
  callHead,
  creditEntry,
  dial,
  itemHead,
  readCallEntry,
  readCreditEntry,
  readItemEntry,
} from '../../src/postoffice/index.js';
import type { Connection, WireContext } from '../../src/postoffice/index.js';
import { FLAG_FS } from '../../src/postoffice/suite.js';
import { answerFlags } from '../../src/postoffice/hello-check.js';
import { loadFixture } from '../helpers/fixtures.js';
import { RawServer } from '../helpers/raw-socket.js';
import { GawpServerSide } from '../helpers/gawp-peer.js';
import { closeOf, dialAccepted, rawClientOf, startEchoListener } from '../helpers/echo-listener.js';

interface Vectors {
  flags: { FS: number; CTX: number; STREAM: number };
  calls: { name: string; context: WireContext; message: string; entry_hex: string }[];
  items: { name: string; stream_id: number; value: string; entry_hex: string }[];
  credits: { stream_id: number; credit: number; entry_hex: string }[];
  malformed: { name: string; entry_hex: string }[];
  ignored: { name: string; entry_hex: string; context: WireContext }[];
}

const vectors = loadFixture<Vectors>('gawp1-stream-vectors.json');

test('stream entries are written and read exactly as the known-answer vectors say', () => {
  assert.equal(FLAG_STREAM, vectors.flags.STREAM);
  assert.equal(FLAG_CTX, vectors.flags.CTX);
  assert.ok(vectors.calls.length >= 3 && vectors.items.length >= 3 && vectors.credits.length >= 3);
  for (const v of vectors.calls) {
    const entry = Buffer.concat([callHead(v.context), Buffer.from(v.message, 'utf8')]);
    assert.equal(entry.toString('hex'), v.entry_hex, v.name);
    const read = readCallEntry(Buffer.from(v.entry_hex, 'hex'), true);
    assert.deepEqual(read.context, v.context, v.name);
    assert.equal(entry.subarray(read.messageAt).toString('utf8'), v.message, v.name);
  }
  // The first, spelt out: kind 1, ctx_len 12, budget_ms 30000, then field 5 (len 4) = 32.
  assert.match(vectors.calls[0]!.entry_hex, /^01000c0104000075300504000000207b/);
  for (const v of vectors.items) {
    const entry = Buffer.concat([itemHead(v.stream_id), Buffer.from(v.value)]);
    assert.equal(entry.toString('hex'), v.entry_hex, v.name);
    assert.equal(readItemEntry(Buffer.from(v.entry_hex, 'hex')), v.stream_id, v.name);
  }
  for (const v of vectors.credits) {
    assert.equal(creditEntry(v.stream_id, v.credit).toString('hex'), v.entry_hex);
    assert.deepEqual(readCreditEntry(Buffer.from(v.entry_hex, 'hex')), { streamId: v.stream_id, credit: v.credit });
  }
  // Out of range never reaches the wire.
  assert.throws(() => creditEntry(1, 0), { code: 'GAW_ERR_BAD_FRAME' });
  assert.throws(() => creditEntry(1, 2 ** 32), { code: 'GAW_ERR_BAD_FRAME' });
  assert.throws(() => itemHead(2 ** 32), { code: 'GAW_ERR_BAD_FRAME' });
});

test('malformed stream entries are fatal; field 5 without the extension is an ignored unknown field', () => {
  for (const v of vectors.malformed) {
    const entry = Buffer.from(v.entry_hex, 'hex');
    const read = () =>
      entry[0] === 3 ? readItemEntry(entry) : entry[0] === 4 ? readCreditEntry(entry) : readCallEntry(entry, true);
    assert.throws(read, { code: 'GAW_ERR_BAD_FRAME' }, v.name);
  }
  for (const v of vectors.ignored) {
    const entry = Buffer.from(v.entry_hex, 'hex');
    assert.deepEqual(readCallEntry(entry).context, v.context, v.name);
    assert.throws(() => readCallEntry(entry, true), { code: 'GAW_ERR_BAD_FRAME' }, `${v.name}, with streams on`);
  }
});

test('a server answers STREAM only with CTX and only when it has streams on', () => {
  const all = FLAG_FS | FLAG_CTX | FLAG_STREAM;
  assert.equal(answerFlags(all, {}), all);
  assert.equal(answerFlags(all, { streams: false }), FLAG_FS | FLAG_CTX);
  assert.equal(answerFlags(all, { callContext: false }), FLAG_FS);
  assert.equal(answerFlags(FLAG_FS | FLAG_STREAM, {}), FLAG_FS, 'STREAM without CTX is not answered');
});

test('both sides set STREAM: items reach the client and credit the server; either side can turn it off', {
  timeout: 30_000,
}, async () => {
  const echo = await startEchoListener({ suite: 'cbc', echo: false });
  try {
    const { client, server } = await dialAccepted(echo);
    assert.equal(client.hasStreams, true);
    assert.equal(server.hasStreams, true);
    const items: [number, string][] = [];
    const credits: [number, number][] = [];
    client.on('item', (id, value) => items.push([id, value.toString()]));
    server.on('credit', (id, credit) => credits.push([id, credit]));
    server.send(Buffer.from('"a"'), itemHead(7));
    server.send(Buffer.from('"b"'), itemHead(7));
    client.send(creditEntry(7, 2), Buffer.alloc(0));
    while (items.length < 2 || credits.length < 1) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(items, [
      [7, '"a"'],
      [7, '"b"'],
    ]);
    assert.deepEqual(credits, [[7, 2]]);
    client.destroy();
    for (const off of [{ streams: false }, { callContext: false }]) {
      const pair = await dialAccepted(echo, off);
      assert.equal(pair.client.hasStreams, false, JSON.stringify(off));
      assert.equal(pair.server.hasStreams, false, JSON.stringify(off));
      pair.client.destroy();
    }
  } finally {
    await echo.close();
  }
  const serverOff = await startEchoListener({ suite: 'sign', streams: false });
  try {
    const { client, server } = await dialAccepted(serverOff);
    assert.equal(client.hasCallContext, true);
    assert.equal(client.hasStreams, false);
    assert.equal(server.hasStreams, false);
    client.destroy();
  } finally {
    await serverOff.close();
  }
});

test('a server that answers CTX but not STREAM is spoken to with CTX alone; flipping STREAM in its hello fails the confirm', {
  timeout: 30_000,
}, async () => {
  const server = await RawServer.start();
  const psk = randomBytes(32);
  try {
    const dialing = dial({ host: '127.0.0.1', port: server.port, suite: 'sign', psk });
    const side = new GawpServerSide(await server.accept());
    assert.equal((await side.readHello()).flags, FLAG_FS | FLAG_CTX | FLAG_STREAM);
    await side.answer({ psk, callContext: true });
    const connection: Connection = await dialing;
    assert.equal(connection.hasCallContext, true);
    assert.equal(connection.hasStreams, false);
    connection.destroy();

    // An attacker adds STREAM to an answer without it: the transcript differs, the confirm fails.
    const tampered = dial({ host: '127.0.0.1', port: server.port, suite: 'sign', psk });
    const victim = new GawpServerSide(await server.accept());
    await victim.readHello();
    await victim.answer({
      psk,
      callContext: true,
      tamperAfterConfirm: (hello) => {
        hello[6] = (hello[6] as number) | FLAG_STREAM;
      },
    });
    await assert.rejects(tampered, { code: 'GAW_ERR_AUTH_FAILED' });
  } finally {
    await server.close();
  }
});

test('a peer that breaks the stream rules is disconnected: items to a server, credit to a client, bad entries', {
  timeout: 30_000,
}, async () => {
  const echo = await startEchoListener({ suite: 'cbc', echo: false });
  const all = FLAG_FS | FLAG_CTX | FLAG_STREAM;
  try {
    const bad = [
      ...vectors.malformed.map((v) => ({ name: v.name, hex: v.entry_hex })),
      { name: 'an item sent by a client', hex: vectors.items[0]!.entry_hex },
    ];
    for (const v of bad) {
      const { client, server } = await rawClientOf(echo, { flags: all });
      assert.equal(server.hasStreams, true);
      const closed = closeOf(server);
      await client.raw.write(client.sealMessages(Buffer.from(v.hex, 'hex')));
      assert.equal((await closed)?.code, 'GAW_ERR_BAD_FRAME', v.name);
    }
    // Without STREAM negotiated, a credit entry is an unknown kind: fatal too.
    const { client, server } = await rawClientOf(echo, { flags: FLAG_FS | FLAG_CTX });
    assert.equal(server.hasStreams, false);
    const closed = closeOf(server);
    await client.raw.write(client.sealMessages(Buffer.from(vectors.credits[0]!.entry_hex, 'hex')));
    assert.equal((await closed)?.code, 'GAW_ERR_BAD_FRAME');
    assert.deepEqual(echo.delivered, []);
  } finally {
    await echo.close();
  }
  const raw = await RawServer.start();
  const psk = randomBytes(32);
  try {
    const dialing = dial({ host: '127.0.0.1', port: raw.port, suite: 'sign', psk });
    const side = new GawpServerSide(await raw.accept());
    await side.readHello();
    await side.answer({ psk, callContext: true, streams: true });
    const connection = await dialing;
    assert.equal(connection.hasStreams, true);
    const closed = closeOf(connection);
    await side.raw.write(side.sealMessages(creditEntry(1, 1)));
    assert.equal((await closed)?.code, 'GAW_ERR_BAD_FRAME', 'a credit sent by a server');
  } finally {
    await raw.close();
  }
});
