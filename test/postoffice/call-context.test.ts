// The call-context extension of GAWP/1 (flags bit 1): its entries byte for byte against the
// known-answer vectors in test/fixtures, the handshake that turns it on only when both sides set
// it (and redials an older server that refuses the flag), and peers that break its rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  FLAG_CTX,
  FLAG_STREAM,
  callHead,
  cancelEntry,
  dial,
  readCallEntry,
  readCancelEntry,
} from '../../src/postoffice/index.js';
import type { Connection, WireContext } from '../../src/postoffice/index.js';
import { FLAG_FS } from '../../src/postoffice/suite.js';
import { packMessages } from '../../src/postoffice/frame.js';
import { loadFixture } from '../helpers/fixtures.js';
import { RawServer } from '../helpers/raw-socket.js';
import { GawpServerSide } from '../helpers/gawp-peer.js';
import { closeOf, dialAccepted, nextMessage, rawClientOf, startEchoListener } from '../helpers/echo-listener.js';

interface Vectors {
  calls: { name: string; context: WireContext; message: string; entry_hex: string }[];
  messages: { name: string; message: string; entry_hex: string }[];
  cancels: { id: number | string; entry_hex: string }[];
  malformed: { name: string; entry_hex: string }[];
  ignored: { name: string; entry_hex: string; context: WireContext }[];
}

const vectors = loadFixture<Vectors>('gawp1-call-context-vectors.json');

test('call entries are written and read exactly as the known-answer vectors say', () => {
  assert.ok(vectors.calls.length >= 5);
  for (const v of vectors.calls) {
    const entry = Buffer.concat([callHead(v.context), Buffer.from(v.message, 'utf8')]);
    assert.equal(entry.toString('hex'), v.entry_hex, v.name);
    const read = readCallEntry(Buffer.from(v.entry_hex, 'hex'));
    assert.deepEqual(read.context, v.context, v.name);
    assert.equal(entry.subarray(read.messageAt).toString('utf8'), v.message, v.name);
  }
  // The simplest vector, spelt out: kind 1, ctx_len 6, budget_ms (type 1, len 4) = 1500.
  assert.match(vectors.calls[0]!.entry_hex, /^0100060104000005dc7b/);
  // A budget-only head queued as a number is packed as the same bytes as callHead({ budgetMs }).
  const message = Buffer.from(vectors.calls[0]!.message);
  assert.deepEqual(
    packMessages([message], undefined, [1500]),
    packMessages([message], undefined, [callHead({ budgetMs: 1500 })]),
  );
  for (const v of vectors.messages) assert.equal(v.entry_hex, `00${Buffer.from(v.message).toString('hex')}`, v.name);
  for (const v of vectors.cancels) {
    assert.equal(cancelEntry(v.id).toString('hex'), v.entry_hex);
    assert.equal(readCancelEntry(Buffer.from(v.entry_hex, 'hex')), JSON.stringify(v.id));
  }
});

test('malformed call and cancel entries are fatal protocol errors; bad ids and unknown fields are ignored', () => {
  for (const v of vectors.malformed) {
    const entry = Buffer.from(v.entry_hex, 'hex');
    const read = () => (entry[0] === 2 ? readCancelEntry(entry) : readCallEntry(entry));
    if (entry[0] === 1 || entry[0] === 2) assert.throws(read, { code: 'GAW_ERR_BAD_FRAME' }, v.name);
  }
  for (const v of vectors.ignored) {
    const { context } = readCallEntry(Buffer.from(v.entry_hex, 'hex'));
    assert.deepEqual(context, v.context, v.name);
  }
  // What a sender is given out of range never reaches the wire.
  assert.equal(callHead({ budgetMs: -5 }).readUInt32BE(5), 0);
  assert.equal(callHead({ budgetMs: 2 ** 40 }).readUInt32BE(5), 0xffff_ffff);
  assert.deepEqual(
    readCallEntry(Buffer.concat([callHead({ requestId: 'x'.repeat(65), budgetMs: 1 }), Buffer.from('{}')])).context,
    {
      budgetMs: 1,
    },
  );
});

/** A connection pair and the messages (with their context) the server side receives. */
async function received(server: Connection, count: number): Promise<{ text: string; context?: WireContext }[]> {
  const got: { text: string; context?: WireContext }[] = [];
  return new Promise((resolve, reject) => {
    server.on('message', (m, context) => {
      got.push(context === undefined ? { text: m.toString() } : { text: m.toString(), context });
      if (got.length === count) resolve(got);
    });
    server.once('close', (err) => reject(err ?? new Error('closed')));
  });
}

test('both sides set CTX: requests carry their context and cancels arrive; either side can turn it off', async () => {
  const echo = await startEchoListener({ suite: 'sign', echo: false });
  try {
    const { client, server } = await dialAccepted(echo);
    assert.equal(client.hasCallContext, true);
    assert.equal(server.hasCallContext, true);
    const messages = received(server, 2);
    const cancels: string[] = [];
    server.on('cancel', (id) => cancels.push(id));
    client.send(Buffer.from('{"a":1}'), callHead({ budgetMs: 250, requestId: 'r-1' }));
    client.send(Buffer.from('{"b":2}'));
    assert.equal(client.sendCancel(7), true);
    assert.deepEqual(await messages, [
      { text: '{"a":1}', context: { budgetMs: 250, requestId: 'r-1' } },
      { text: '{"b":2}' },
    ]);
    while (cancels.length === 0) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(cancels, ['7']);
    client.destroy();

    const off = await dialAccepted(echo, { callContext: false });
    assert.equal(off.client.hasCallContext, false);
    assert.equal(off.server.hasCallContext, false);
    assert.equal(off.client.sendCancel(1), false, 'no cancel without the extension');
    off.client.destroy();
  } finally {
    await echo.close();
  }
  const serverOff = await startEchoListener({ suite: 'none', callContext: false });
  try {
    const { client, server } = await dialAccepted(serverOff);
    assert.equal(client.hasCallContext, false);
    assert.equal(server.hasCallContext, false);
    const reply = nextMessage(client);
    client.send(Buffer.from('plain'), callHead({ budgetMs: 5 }));
    assert.equal(await reply, 'plain', 'a head given for a connection without CTX is not sent');
    client.destroy();
  } finally {
    await serverOff.close();
  }
});

test('a server from before the extension: one that leaves CTX out is spoken to as today; one that refuses it is redialed', async () => {
  const server = await RawServer.start();
  const psk = randomBytes(32);
  try {
    // Answers without CTX (what GawpServerSide does by default): the client uses plain entries.
    const dialing = dial({ host: '127.0.0.1', port: server.port, suite: 'sign', psk });
    const side = new GawpServerSide(await server.accept());
    const hello = await side.readHello();
    assert.equal(hello.flags & FLAG_CTX, FLAG_CTX, 'a new client offers CTX');
    await side.answer({ psk });
    const connection = await dialing;
    assert.equal(await side.readFinish(), true);
    assert.equal(connection.hasCallContext, false);
    connection.send(Buffer.from('{"plain":true}'), callHead({ budgetMs: 9 }));
    assert.deepEqual((await side.receive()).messages, ['{"plain":true}'], 'no kind byte, no context');
    connection.destroy();

    // Refuses the unknown flag (reason 6, detail 0) as this version's server did: dialed again without it.
    const redialing = dial({ host: '127.0.0.1', port: server.port, suite: 'sign', psk });
    const refuser = new GawpServerSide(await server.accept());
    // This version's client offers STREAM too: refused, it offers CTX alone; refused again, neither.
    assert.equal((await refuser.readHello()).flags, FLAG_FS | FLAG_CTX | FLAG_STREAM);
    await refuser.answer({ reject: { reason: 6, detail: 0 } });
    const ctxOnly = new GawpServerSide(await server.accept());
    assert.equal((await ctxOnly.readHello()).flags, FLAG_FS | FLAG_CTX, 'the second hello offers no STREAM');
    await ctxOnly.answer({ reject: { reason: 6, detail: 0 } });
    const second = new GawpServerSide(await server.accept());
    assert.equal((await second.readHello()).flags, FLAG_FS, 'the third hello offers no CTX');
    await second.answer({ psk });
    const redialed = await redialing;
    assert.equal(redialed.hasCallContext, false);
    redialed.destroy();
  } finally {
    await server.close();
  }
});

test('a peer that breaks the entry rules is disconnected; a client never accepts calls or cancels', async () => {
  const echo = await startEchoListener({ suite: 'cbc', echo: false });
  try {
    for (const v of vectors.malformed) {
      const { client, server } = await rawClientOf(echo, { flags: FLAG_FS | FLAG_CTX });
      assert.equal(server.hasCallContext, true);
      const closed = closeOf(server);
      await client.raw.write(client.sealMessages(Buffer.from(v.entry_hex, 'hex')));
      assert.equal((await closed)?.code, 'GAW_ERR_BAD_FRAME', v.name);
    }
    assert.deepEqual(echo.delivered, []);
  } finally {
    await echo.close();
  }
  const server = await RawServer.start();
  const psk = randomBytes(32);
  try {
    for (const entry of [callHead({ budgetMs: 1 }), cancelEntry(1)]) {
      const dialing = dial({ host: '127.0.0.1', port: server.port, suite: 'sign', psk });
      const side = new GawpServerSide(await server.accept());
      await side.readHello();
      await side.answer({ psk, callContext: true });
      const connection = await dialing;
      assert.equal(connection.hasCallContext, true);
      const closed = closeOf(connection);
      await side.raw.write(side.sealMessages(Buffer.concat([entry, Buffer.from('{}')])));
      assert.equal((await closed)?.code, 'GAW_ERR_BAD_FRAME');
    }
  } finally {
    await server.close();
  }
});
