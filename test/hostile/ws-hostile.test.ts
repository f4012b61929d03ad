// Hostile peers on the bridge's WebSocket, over real sockets: oversized frames, a flood of calls,
// a client that never reads, one that never answers pings, garbage and binary frames, a foreign
// Origin, wrong or missing tokens, and more sockets than allowed. Each is bounded, and an honest
// client on the same bridge is still served afterwards.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { GawServer } from '../../src/index.js';
import type { WebSocketOptions } from '../../src/index.js';
import { track } from '../helpers/cleanup.js';
import { within } from '../helpers/server-fixtures.js';
import { WsRpc, refusalOf } from '../server/ws-helpers.js';
import { RawWebSocket, opcodes } from './helpers/raw-websocket.js';

const token = randomBytes(24).toString('base64url');
const bearer = ['gaw.jsonrpc', `gaw.bearer.${token}`];
let running = 0;
let mostRunning = 0;

class Work {
  static serviceName = 'work';
  static entrypoints = ['echo', 'tick'];
  echo(text: string) {
    return text;
  }
  async tick(n: number) {
    running++;
    mostRunning = Math.max(mostRunning, running);
    await new Promise((resolve) => setImmediate(resolve));
    running--;
    return n;
  }
}

async function start(websocket: WebSocketOptions = {}): Promise<{ port: number; url: string; server: GawServer }> {
  const server = new GawServer({ host: '127.0.0.1', port: 0, http: { port: 0, token, websocket } }).add(Work);
  await server.listen();
  track(() => server.close());
  const port = server.httpAddress!.port;
  return { port, url: `ws://127.0.0.1:${port}/api`, server };
}

/** An honest client still gets its answer. */
async function stillServes(url: string): Promise<void> {
  const honest = await WsRpc.open(url, { protocols: bearer });
  assert.equal((await within(honest.call('work.echo', ['still here']), 5_000, 'an honest call')).result, 'still here');
  await honest.close();
}

const authed = { 'Sec-WebSocket-Protocol': `gaw.jsonrpc, gaw.bearer.${token}` };

test('a frame claiming more than maxMessageBytes is closed with 1009 before its payload is read', async () => {
  const { port, url } = await start({ maxMessageBytes: 64 * 1024 });
  const raw = await RawWebSocket.open(port, authed);
  raw.write(raw.frame(opcodes.text, Buffer.alloc(16), { claimedBytes: 1024 * 1024 * 1024 }));
  assert.equal(await within(raw.closeCode(), 5_000, 'the 1009 close'), 1009);
  const big = await WsRpc.open(url, { protocols: bearer });
  big.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'work.echo', params: ['x'.repeat(70 * 1024)] }));
  assert.equal((await big.closed).code, 1009);
  await stillServes(url);
});

test('a flood of calls runs at most maxInFlight at once; what passes the queue is refused with -32002', async () => {
  const { port, url } = await start({ maxInFlight: 8, maxQueuedBytes: 8 * 1024 });
  mostRunning = 0;
  const raw = await RawWebSocket.open(port, authed);
  const count = 3000;
  const frames: Buffer[] = [];
  for (let id = 1; id <= count; id++)
    frames.push(raw.frame(opcodes.text, JSON.stringify({ jsonrpc: '2.0', id, method: 'work.tick', params: [id] })));
  raw.write(Buffer.concat(frames));
  const replies = (await within(raw.texts(count), 30_000, 'a reply to every call')).map((t) => JSON.parse(t));
  assert.ok(mostRunning <= 8, `at most 8 handlers ran at once (saw ${mostRunning})`);
  const done = replies.filter((r) => r.result !== undefined).length;
  const refused = replies.filter((r) => r.error?.code === -32002).length;
  assert.equal(done + refused, count, 'every call got a result or -32002, nothing else');
  assert.ok(done >= 8, `calls ran (${done} did, ${refused} were refused)`);
  assert.deepEqual(new Set(replies.map((r) => r.id)).size, count);
  await stillServes(url);
});

test('a client that never reads its replies stops being read, then is dropped after drainTimeoutMs', async () => {
  const { port, url } = await start({ maxBufferedBytes: 64 * 1024, drainTimeoutMs: 300 });
  const raw = await RawWebSocket.open(port, authed);
  raw.stopReading();
  const text = 'y'.repeat(16 * 1024);
  const frame = raw.frame(opcodes.text, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'work.echo', params: [text] }));
  // Far more replies than the kernel buffers on both sides hold; the writes back up here too.
  for (let i = 0; i < 4000; i++) raw.write(frame);
  await within(raw.closed, 20_000, 'the slow reader being dropped');
  await stillServes(url);
});

test('a client that never answers pings is dropped; garbage, unmasked and non-UTF-8 frames are closed', async () => {
  const { port, url } = await start({ pingIntervalMs: 100 });
  const silent = await RawWebSocket.open(port, authed);
  await within(silent.closed, 5_000, 'the silent client being dropped');
  assert.ok(
    silent.frames.some((f) => f.opcode === opcodes.ping),
    'it was pinged first',
  );

  const garbage = await RawWebSocket.open(port, authed);
  garbage.write(Buffer.from([0x8f, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]));
  assert.equal(await within(garbage.closeCode(), 5_000, 'the garbage close'), 1002);

  const unmasked = await RawWebSocket.open(port, authed);
  unmasked.write(unmasked.frame(opcodes.text, '{"jsonrpc":"2.0","id":1,"method":"rpc.ping"}', { isMasked: false }));
  assert.equal(await within(unmasked.closeCode(), 5_000, 'the unmasked close'), 1002);

  const latin = await RawWebSocket.open(port, authed);
  latin.write(latin.frame(opcodes.text, Buffer.from([0x22, 0xff, 0xfe, 0x22])));
  assert.equal(await within(latin.closeCode(), 5_000, 'the UTF-8 close'), 1007);

  const binary = await RawWebSocket.open(port, authed);
  binary.write(binary.frame(opcodes.binary, '{"jsonrpc":"2.0","id":1,"method":"rpc.ping"}'));
  assert.equal(await within(binary.closeCode(), 5_000, 'the binary close'), 1003);
  await stillServes(url);
});

test('foreign origins and wrong or missing tokens get nothing run; past maxSockets upgrades get 503', async () => {
  const { port, url, server } = await start({ maxSockets: 3, authTimeoutMs: 200 });
  for (const origin of ['https://evil.example', 'null', `http://localhost:${port + 1}`]) {
    const refused = await refusalOf(url, { protocols: bearer, headers: { Origin: origin } });
    assert.equal(refused.status, 403, origin);
  }
  assert.equal((await refusalOf(url, { protocols: ['gaw.jsonrpc', 'gaw.bearer.x'] })).status, 401);
  const guess = await RawWebSocket.open(port);
  guess.sendText(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'rpc.auth', params: { token: `${token}x` } }));
  assert.equal(await guess.closeCode(), 4401);
  // Unauthenticated sockets take places until their deadline; past the cap new ones get 503.
  const idle = await Promise.all([RawWebSocket.open(port), RawWebSocket.open(port), RawWebSocket.open(port)]);
  const full = await refusalOf(url, { protocols: bearer });
  assert.equal(full.status, 503);
  assert.equal(full.headers['retry-after'], '1');
  for (const socket of idle) assert.equal(await within(socket.closeCode(), 5_000, 'the auth deadline'), 4401);
  assert.equal(server.webSockets.size, 0);
  await stillServes(url);
});
