// A Connection's life over real sockets: the frame and idle timeouts on both sides, CLOSE frames
// and closeReceived, end()/close()/destroy(), backpressure against a peer that stops reading, and the
// owner's pauseReading() and setBusy(). Small timeouts via options; waits are on events, except two
// bounded waits that prove a timer did not fire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay, setImmediate as nextTurn } from 'node:timers/promises';
import { dial } from '../../src/postoffice/index.js';
import { AbortError } from '../../src/errors.js';
import type { GawError } from '../../src/errors.js';
import { RawServer } from '../helpers/raw-socket.js';
import { type GawpClient, GawpServerSide } from '../helpers/gawp-peer.js';
import {
  checkServes,
  closeOf,
  dialAccepted,
  nextMessage,
  rawClientOf,
  startEchoListener,
} from '../helpers/echo-listener.js';

const timeout = 10_000;

test('a started frame that stalls closes the server side with GAW_ERR_FRAME_TIMEOUT, writing nothing', {
  timeout,
}, async () => {
  const echo = await startEchoListener({ suite: 'cbc', frameTimeoutMs: 40 });
  try {
    const { client, server } = await rawClientOf(echo);
    const before = client.raw.receivedBytes;
    const frame = client.sealMessages('never finished');
    const closed = closeOf(server);
    await client.raw.write(frame.subarray(0, frame.length - 1));
    assert.equal((await closed)?.code, 'GAW_ERR_FRAME_TIMEOUT');
    assert.equal((await client.raw.closed).receivedBytes, before);
    assert.deepEqual(echo.delivered, []);
    await checkServes(echo);
  } finally {
    await echo.close();
  }
});

test('a stall inside the 4-byte length also hits the frame deadline', { timeout }, async () => {
  const echo = await startEchoListener({ suite: 'sign', frameTimeoutMs: 40 });
  try {
    const { client, server } = await rawClientOf(echo);
    const closed = closeOf(server);
    await client.raw.write(client.sealMessages('x').subarray(0, 2));
    assert.equal((await closed)?.code, 'GAW_ERR_FRAME_TIMEOUT');
  } finally {
    await echo.close();
  }
});

test("a server that stalls inside a frame closes the dialer's connection with GAW_ERR_FRAME_TIMEOUT", {
  timeout,
}, async () => {
  const server = await RawServer.start();
  const psk = randomBytes(32);
  try {
    const dialing = dial({ host: '127.0.0.1', port: server.port, suite: 'secretbox', psk, frameTimeoutMs: 40 });
    const side = new GawpServerSide(await server.accept());
    await side.readHello();
    await side.answer({ psk });
    const connection = await dialing;
    assert.equal(await side.readFinish(), true);
    const messages: string[] = [];
    connection.on('message', (m) => messages.push(m.toString()));
    const closed = closeOf(connection);
    const whole = side.sealMessages('complete');
    const partial = side.sealMessages('partial');
    await side.raw.write(Buffer.concat([whole, partial.subarray(0, 10)]));
    assert.equal((await closed)?.code, 'GAW_ERR_FRAME_TIMEOUT');
    assert.deepEqual(messages, ['complete']);
    await side.raw.closed;
    assert.equal(side.raw.unreadBytes, 0, 'the dialer wrote nothing after its ClientFinish');
  } finally {
    await server.close();
  }
});

test('the frame deadline is per frame: a steady stream whose chunks always end mid-frame is not cut off', {
  timeout,
}, async () => {
  // Generous: one round trip must never take this long, even on a loaded machine.
  const frameTimeoutMs = 250;
  const echo = await startEchoListener({ suite: 'sign', frameTimeoutMs });
  try {
    const { client, server } = await rawClientOf(echo);
    // Each write completes one frame and starts the next; keep it up for 2 frame deadlines.
    const start = performance.now();
    let sent = 0;
    let rest = client.sealMessages('m0');
    await client.raw.write(rest.subarray(0, 20));
    rest = rest.subarray(20);
    while (performance.now() - start < 2 * frameTimeoutMs) {
      sent++;
      const frame = client.sealMessages(`m${sent}`);
      const echoed = client.receive();
      await client.raw.write(Buffer.concat([rest, frame.subarray(0, 20)]));
      assert.deepEqual((await echoed).messages, [`m${sent - 1}`]);
      rest = frame.subarray(20);
    }
    assert.equal(server.isClosed, false);
  } finally {
    await echo.close();
  }
});

test('while the owner pauses reading, a half-received frame is not timed out; it completes after resuming', {
  timeout,
}, async () => {
  const frameTimeoutMs = 30;
  const echo = await startEchoListener({ suite: 'cbc', frameTimeoutMs, echo: false });
  try {
    const { client, server } = await rawClientOf(echo);
    server.once('message', () => server.pauseReading());
    const first = client.sealMessages('first');
    const second = client.sealMessages('second');
    const arrivedFirst = nextMessage(server);
    await client.raw.write(Buffer.concat([first, second.subarray(0, 30)]));
    await arrivedFirst;
    assert.equal(server.isReadingPaused, true);
    // A bounded wait longer than the frame deadline proves that it did not fire.
    await delay(frameTimeoutMs * 4);
    assert.equal(server.isClosed, false);
    const arrivedSecond = nextMessage(server);
    await client.raw.write(second.subarray(30));
    server.resumeReading();
    assert.equal(await arrivedSecond, 'second');
    assert.equal(server.isReadingPaused, false);
  } finally {
    await echo.close();
  }
});

test('an idle connection is closed with GAW_ERR_IDLE_TIMEOUT on the side that set it', { timeout }, async () => {
  const echo = await startEchoListener({ suite: 'sign', idleTimeoutMs: 40 });
  try {
    const { client, server } = await dialAccepted(echo, { idleTimeoutMs: 0 });
    const [serverErr, clientErr] = await Promise.all([closeOf(server), closeOf(client)]);
    assert.equal(serverErr?.code, 'GAW_ERR_IDLE_TIMEOUT');
    assert.equal(clientErr, undefined, 'the client sees a plain close');
  } finally {
    await echo.close();
  }
  const quiet = await startEchoListener({ suite: 'sign', idleTimeoutMs: 0 });
  try {
    const { client } = await dialAccepted(quiet, { idleTimeoutMs: 40 });
    assert.equal((await closeOf(client))?.code, 'GAW_ERR_IDLE_TIMEOUT');
  } finally {
    await quiet.close();
  }
});

test('an owner marking the connection busy suspends the idle timeout until it is idle again', { timeout }, async () => {
  const idleTimeoutMs = 40;
  const echo = await startEchoListener({ suite: 'sign', idleTimeoutMs, echo: false });
  try {
    const { server } = await dialAccepted(echo, { idleTimeoutMs: 0 });
    server.setBusy(true);
    // A bounded wait well past the idle timeout proves that it did not fire while busy.
    await delay(idleTimeoutMs * 4);
    assert.equal(server.isClosed, false);
    const closed = closeOf(server);
    server.setBusy(false);
    assert.equal((await closed)?.code, 'GAW_ERR_IDLE_TIMEOUT');
  } finally {
    await echo.close();
  }
});

test('a busy connection still times out idle while its reading is paused: by the owner, or by a peer that stopped reading', {
  timeout,
}, async () => {
  const idleTimeoutMs = 200;
  const echo = await startEchoListener({ suite: 'sign', idleTimeoutMs, echo: false, highWaterBytes: 1 });
  try {
    // Paused by the owner: nothing is read, so a peer that left could never be noticed.
    const owner = await dialAccepted(echo, { idleTimeoutMs: 0 });
    owner.server.setBusy(true);
    owner.server.pauseReading();
    assert.equal((await closeOf(owner.server))?.code, 'GAW_ERR_IDLE_TIMEOUT');
    // Paused by backpressure: the peer stopped reading our replies and nothing moves either way.
    const { client, server } = await rawClientOf(echo);
    client.raw.pause();
    server.setBusy(true);
    const chunk = randomBytes(32 * 1024);
    for (let i = 0; i < 4_000 && !server.isReadingPaused; i++) {
      server.send(chunk);
      await nextTurn();
    }
    assert.equal(server.isReadingPaused, true);
    assert.equal((await closeOf(server))?.code, 'GAW_ERR_IDLE_TIMEOUT');
  } finally {
    await echo.close();
  }
});

test('sendClose goes out after the messages queued before it, once, and replies may follow it', {
  timeout,
}, async () => {
  const echo = await startEchoListener({ suite: 'secretbox', echo: false });
  try {
    const { client, server } = await rawClientOf(echo);
    server.send(Buffer.from('a'));
    server.send(Buffer.from('b'));
    server.sendClose();
    server.sendClose();
    assert.equal(server.isDraining, true);
    server.send(Buffer.from('late reply'));
    assert.deepEqual(await client.receive(), { type: 1, messages: ['a', 'b'] });
    assert.deepEqual(await client.receive(), { type: 2, messages: [] });
    assert.deepEqual(await client.receive(), { type: 1, messages: ['late reply'] });
    assert.equal(client.opener!.seq, 3);
  } finally {
    await echo.close();
  }
});

test('a CLOSE from the peer emits closeReceived once, in order with the messages around it', { timeout }, async () => {
  const echo = await startEchoListener({ suite: 'sign', echo: false });
  try {
    const { client, server } = await rawClientOf(echo);
    const seen: string[] = [];
    server.on('message', (m) => seen.push(m.toString()));
    server.on('closeReceived', () => seen.push('closeReceived'));
    const last = new Promise((resolve) => server.on('message', (m) => m.toString() === 'after' && resolve(undefined)));
    await client.raw.write(
      Buffer.concat([
        client.sealMessages('before'),
        client.sealClose(),
        client.sealClose(),
        client.sealMessages('after'),
      ]),
    );
    await last;
    assert.deepEqual(seen, ['before', 'closeReceived', 'after']);
    assert.equal(server.isDraining, true);
    assert.equal(server.isClosed, false);
  } finally {
    await echo.close();
  }
});

test("a dialed client sees the server's CLOSE as closeReceived and still gets the replies after it", {
  timeout,
}, async () => {
  const echo = await startEchoListener({ suite: 'cbc' });
  try {
    const { client, server } = await dialAccepted(echo);
    const seen: string[] = [];
    client.on('closeReceived', () => seen.push('closeReceived'));
    const reply = new Promise((resolve) =>
      client.on('message', (m) => {
        seen.push(m.toString());
        resolve(undefined);
      }),
    );
    server.sendClose();
    client.send(Buffer.from('request already on the wire'));
    await reply;
    assert.deepEqual(seen, ['closeReceived', 'request already on the wire']);
    assert.equal(client.isDraining, true);
  } finally {
    await echo.close();
  }
});

test('a CLOSE frame with a payload and an unknown frame type are fatal', { timeout }, async () => {
  const echo = await startEchoListener({ suite: 'sign' });
  try {
    for (const [name, seal] of [
      ['CLOSE with a payload', (c: GawpClient) => c.seal(2, Buffer.from('x'))],
      ['type 3', (c: GawpClient) => c.seal(3, Buffer.from('\0\0\0\x01x'))],
      ['type 0', (c: GawpClient) => c.seal(0, Buffer.from('\0\0\0\x01x'))],
    ] as const) {
      const { client, server } = await rawClientOf(echo);
      const before = client.raw.receivedBytes;
      const closed = closeOf(server);
      await client.raw.write(seal(client));
      assert.equal((await closed)?.code, 'GAW_ERR_BAD_FRAME', name);
      assert.equal((await client.raw.closed).receivedBytes, before, name);
    }
    assert.deepEqual(echo.delivered, []);
    await checkServes(echo);
  } finally {
    await echo.close();
  }
});

test('bad message framing inside an authentic frame is fatal and delivers none of its messages', {
  timeout,
}, async () => {
  const echo = await startEchoListener({ suite: 'cbc' });
  try {
    const payloads = [
      Buffer.alloc(0),
      Buffer.from([0, 0, 0, 0]),
      Buffer.from([0, 0, 0, 2, 0x61, 0x62, 0, 0, 0, 0]),
      Buffer.from([0, 0, 0, 1, 0x61, 0, 0]),
      Buffer.from([0, 0, 0, 9, 0x61]),
    ];
    for (const payload of payloads) {
      const { client, server } = await rawClientOf(echo);
      const closed = closeOf(server);
      await client.raw.write(client.seal(1, payload));
      assert.equal((await closed)?.code, 'GAW_ERR_BAD_FRAME', payload.toString('hex'));
    }
    assert.deepEqual(echo.delivered, []);
  } finally {
    await echo.close();
  }
});

test('end() flushes queued messages before the FIN; send after it throws; close() resolves once closed', {
  timeout,
}, async () => {
  const echo = await startEchoListener({ suite: 'secretbox', echo: false });
  try {
    const { client, server } = await dialAccepted(echo);
    const serverClosed = closeOf(server);
    let closeEvents = 0;
    client.on('close', () => closeEvents++);
    client.send(Buffer.from('one'));
    client.send(Buffer.from('two'));
    client.end();
    client.end();
    assert.throws(() => client.send(Buffer.from('three')), { code: 'GAW_ERR_CONN_CLOSED' });
    const closing = client.close();
    assert.equal(await serverClosed, undefined, 'a clean close');
    await closing;
    await client.close();
    assert.deepEqual(echo.delivered, ['one', 'two']);
    assert.equal(closeEvents, 1);
    assert.equal(client.isClosed, true);
  } finally {
    await echo.close();
  }
});

test('destroy() is immediate: queued messages are dropped, close fires once with the given error', {
  timeout,
}, async () => {
  const echo = await startEchoListener({ suite: 'sign' });
  try {
    const { client, server } = await dialAccepted(echo);
    const serverClosed = closeOf(server);
    const errors: (GawError | undefined)[] = [];
    client.on('close', (err) => errors.push(err));
    client.send(Buffer.from('never sent'));
    const reason = new AbortError('destroyed by the test');
    client.destroy(reason);
    client.destroy();
    assert.throws(() => client.send(Buffer.from('x')), { code: 'GAW_ERR_CONN_CLOSED' });
    assert.equal(await serverClosed, undefined);
    assert.deepEqual(echo.delivered, []);
    assert.deepEqual(errors, [reason]);
  } finally {
    await echo.close();
  }
});

test('an owner that destroys the connection on a message gets no more messages of that frame', {
  timeout,
}, async () => {
  const echo = await startEchoListener({ suite: 'sign', echo: false });
  try {
    const { client, server } = await rawClientOf(echo);
    const seen: string[] = [];
    server.on('message', (m) => {
      seen.push(m.toString());
      server.destroy();
    });
    const closed = closeOf(server);
    await client.raw.write(client.sealMessages('1', '2', '3'));
    await closed;
    assert.deepEqual(seen, ['1']);
  } finally {
    await echo.close();
  }
});

test('a peer that stops reading pauses our reading past highWaterBytes, resumes on drain, and is cut off past maxPendingWriteBytes', {
  timeout,
}, async () => {
  const highWaterBytes = 64 * 1024;
  const maxPendingWriteBytes = 512 * 1024;
  const echo = await startEchoListener({ suite: 'sign', echo: false, highWaterBytes, maxPendingWriteBytes });
  try {
    const { client, server } = await rawClientOf(echo);
    client.raw.pause();
    const chunk = randomBytes(32 * 1024);
    // The kernel's buffers take the first megabytes; then the socket's own queue grows.
    for (let i = 0; i < 4_000 && !server.isReadingPaused; i++) {
      server.send(chunk);
      await nextTurn();
    }
    assert.equal(server.isReadingPaused, true, 'reading paused once the unsent output passed the high-water mark');
    assert.ok(server.pendingBytes > highWaterBytes);
    // The peer reads again: the output drains and reading resumes.
    const drained = once(server, 'drain');
    client.raw.resume();
    await drained;
    assert.equal(server.isReadingPaused, false);
    // The peer stops for good: past the cap the connection is destroyed.
    client.raw.pause();
    const closed = closeOf(server);
    for (let i = 0; i < 4_000 && !server.isClosed; i++) {
      server.send(chunk);
      await nextTurn();
    }
    const err = await closed;
    assert.equal(err?.code, 'GAW_ERR_BACKPRESSURE');
    assert.match(err!.message, /stopped reading/);
    await checkServes(echo);
  } finally {
    await echo.close();
  }
});
