// The WebSocket endpoint on the bridge's /api, over real `ws` sockets on loopback: calls, batches,
// notifications both ways, many calls in flight, the token in the subprotocol or in rpc.auth, the
// same Host and Origin checks as POST, pushes from server code, cancel and deadlines, and the
// graceful close on server drain.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { GawServer, callContext } from '../../src/index.js';
import { track } from '../helpers/cleanup.js';
import { Gate, makeSecret, until, within } from '../helpers/server-fixtures.js';
import { WsRpc, refusalOf } from './ws-helpers.js';

const token = randomBytes(24).toString('base64url');
const gates: Gate[] = [];
const signals: AbortSignal[] = [];

class Chat {
  static serviceName = 'chat';
  static entrypoints = ['echo', 'slow', 'held', 'watch', 'join', 'poke', 'deadline'];
  echo(text: string) {
    return text;
  }
  async slow(ms: number, value: unknown) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return value;
  }
  async held() {
    const gate = new Gate();
    gates.push(gate);
    await gate.promise;
    return 'released';
  }
  async watch() {
    const signal = callContext()!.signal;
    signals.push(signal);
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    return (signal.reason as { code?: string }).code;
  }
  deadline() {
    return callContext()!.deadline !== undefined;
  }
  join(room: string) {
    return server.webSockets.subscribe(callContext()!.peer, room);
  }
  poke(text: string) {
    return server.webSockets.notify(callContext()!.peer, 'poked', [text]);
  }
}

let server: GawServer;

async function start(http: Record<string, unknown> = {}): Promise<{ server: GawServer; url: string }> {
  const s = new GawServer({
    host: '127.0.0.1',
    port: 0,
    secret: makeSecret(),
    http: { port: 0, token, websocket: true, ...http },
  }).add(Chat);
  await s.listen();
  track(() => s.close());
  server = s;
  return { server: s, url: `ws://127.0.0.1:${s.httpAddress!.port}/api` };
}

const bearer = ['gaw.jsonrpc', `gaw.bearer.${token}`];

test('calls, batches and notifications run over one socket with the token in the subprotocol', async () => {
  const { url } = await start();
  const rpc = await WsRpc.open(url, { protocols: bearer });
  assert.equal(rpc.ws.protocol, 'gaw.jsonrpc');
  assert.deepEqual(await rpc.call('chat.echo', ['hi']), { jsonrpc: '2.0', id: 1, result: 'hi' });
  const replies = await rpc.batch([
    { jsonrpc: '2.0', id: 'a', method: 'chat.echo', params: ['x'] },
    { jsonrpc: '2.0', method: 'chat.echo', params: ['note'] },
    { jsonrpc: '2.0', id: 'b', method: 'chat.nope' },
  ]);
  assert.deepEqual(replies[0], { jsonrpc: '2.0', id: 'a', result: 'x' });
  assert.equal((replies[1]!.error as { code: number }).code, -32601);
  assert.equal(replies.length, 2);
  rpc.ws.send('{not json');
  await until(() => rpc.strays.length === 1, 'the parse error reply');
  assert.equal((rpc.strays[0] as { error: { code: number } }).error.code, -32700);
  assert.deepEqual(await rpc.call('rpc.ping'), { jsonrpc: '2.0', id: 2, result: 'pong' });
  await rpc.close();
});

test('64 calls in flight on one socket are answered by id, in the order they finish', async () => {
  const { url } = await start();
  const rpc = await WsRpc.open(url, { protocols: bearer });
  const order: number[] = [];
  const calls = Array.from({ length: 64 }, (_, i) =>
    rpc.call('chat.slow', [((64 - i) % 8) * 20, i]).then((reply) => {
      order.push(reply.result as number);
      return reply;
    }),
  );
  const replies = await within(Promise.all(calls), 10_000, '64 replies');
  for (const [i, reply] of replies.entries()) assert.equal(reply.result, i);
  assert.notDeepEqual(
    order,
    [...order].sort((a, b) => a - b),
    'replies come as calls finish',
  );
  await rpc.close();
});

test('without a token in the handshake, rpc.auth must come first: right, wrong, missing, late', async () => {
  const { url } = await start({ websocket: { authTimeoutMs: 200 } });
  const good = await WsRpc.open(url);
  assert.deepEqual(await good.call('rpc.auth', { token }), { jsonrpc: '2.0', id: 1, result: true });
  assert.equal((await good.call('chat.echo', ['ok'])).result, 'ok');
  await good.close();

  const wrong = await WsRpc.open(url);
  const refused = await wrong.call('rpc.auth', { token: 'nope' });
  assert.deepEqual(refused.error, {
    code: -32600,
    message: 'Invalid Request: wrong bearer token',
    data: { httpStatus: 401 },
  });
  assert.equal((await wrong.closed).code, 4401);

  const eager = await WsRpc.open(url);
  eager.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'chat.echo', params: ['x'] }));
  assert.equal((await eager.closed).code, 4401);
  assert.equal(eager.strays.length, 0, 'nothing ran and nothing was answered');

  const silent = await WsRpc.open(url);
  const closed = await within(silent.closed, 5_000, 'the auth deadline');
  assert.equal(closed.code, 4401);
  assert.match(closed.reason, /no rpc\.auth within 200 ms/);
});

test('the upgrade is refused like a POST: wrong token 401, foreign Origin 403, foreign Host 421, token in the URL 400', async () => {
  const { url } = await start();
  const wrong = await refusalOf(url, { protocols: ['gaw.jsonrpc', 'gaw.bearer.wrong'] });
  assert.equal(wrong.status, 401);
  assert.deepEqual(JSON.parse(wrong.body), {
    jsonrpc: '2.0',
    id: null,
    error: { code: -32600, message: 'Invalid Request: wrong bearer token', data: { httpStatus: 401 } },
  });
  assert.equal(wrong.headers['www-authenticate'], 'Bearer');
  const foreign = await refusalOf(url, { protocols: bearer, origin: 'https://evil.example' });
  assert.equal(foreign.status, 403);
  assert.equal(JSON.parse(foreign.body).error.data.httpStatus, 403);
  const rebound = await refusalOf(url, { protocols: bearer, headers: { Host: 'attacker.example' } });
  assert.equal(rebound.status, 421);
  const inUrl = await refusalOf(`${url}?token=${token}`, { protocols: bearer });
  assert.equal(inUrl.status, 400);
  assert.doesNotMatch(inUrl.body, new RegExp(token));
  const elsewhere = await refusalOf(url.replace('/api', '/other'), { protocols: bearer });
  assert.equal(elsewhere.status, 404);
  const port = new URL(url).port;
  const own = await WsRpc.open(url, { protocols: bearer, origin: `http://127.0.0.1:${port}` });
  assert.equal((await own.call('chat.echo', ['same origin'])).result, 'same origin');
  await own.close();
});

test('server code pushes to subscribers and to the calling socket; rpc.subscribe and rpc.unsubscribe', async () => {
  const { server: s, url } = await start();
  const opened: string[] = [];
  s.webSockets.on('open', (peer) => opened.push(peer));
  const alice = await WsRpc.open(url, { protocols: bearer });
  const bob = await WsRpc.open(url, { protocols: bearer });
  assert.deepEqual((await alice.call('rpc.subscribe', ['orders', 'stock'])).result, ['orders', 'stock']);
  assert.equal((await bob.call('chat.join', ['stock'])).result, true);
  await until(() => opened.length === 2, 'two open events');
  assert.equal(s.webSockets.size, 2);
  assert.equal(s.webSockets.publish('orders', { id: 31 }), 1);
  assert.equal(s.webSockets.publish('stock', [5]), 2);
  assert.equal(s.webSockets.publish('nobody'), 0);
  await alice.notificationCount(2);
  assert.deepEqual(alice.notifications, [
    { jsonrpc: '2.0', method: 'orders', params: { id: 31 } },
    { jsonrpc: '2.0', method: 'stock', params: [5] },
  ]);
  assert.equal((await bob.call('chat.poke', ['you'])).result, true);
  await bob.notificationCount(2);
  assert.deepEqual(bob.notifications[1], { jsonrpc: '2.0', method: 'poked', params: ['you'] });
  assert.deepEqual((await alice.call('rpc.unsubscribe', ['orders'])).result, ['stock']);
  assert.equal(s.webSockets.publish('orders', {}), 0);
  const bad = await alice.call('rpc.subscribe', ['rpc.stream.x']);
  assert.equal((bad.error as { code: number }).code, -32602);
  await bob.close();
  await until(() => s.webSockets.size === 1, 'the closed socket leaves the hub');
  assert.equal(s.webSockets.publish('stock', [6]), 1);
  await alice.close();
});

test('closing the socket aborts its running calls; rpc.cancel aborts one; gaw.timeoutMs gives a deadline', async () => {
  const { url } = await start();
  signals.length = 0;
  const rpc = await WsRpc.open(url, { protocols: bearer });
  const cancelled = rpc.call('chat.watch');
  await until(() => signals.length === 1, 'the handler started');
  rpc.notify('rpc.cancel', { id: 1 });
  assert.equal((await cancelled).result, 'GAW_ERR_ABORTED');
  const expiring = await rpc.call('chat.watch', [], { gaw: { timeoutMs: 50, requestId: 'r-1' } });
  assert.equal(expiring.result, 'GAW_ERR_DEADLINE');
  assert.equal((await rpc.call('chat.deadline', [], { gaw: { timeoutMs: 5000 } })).result, true);
  const badBudget = await rpc.call('chat.deadline', [], { gaw: { timeoutMs: -1 } });
  assert.equal((badBudget.error as { code: number }).code, -32600);
  void rpc.call('chat.watch');
  await until(() => signals.length === 3, 'the third handler started');
  rpc.ws.terminate();
  await until(() => signals[2]!.aborted, 'the signal aborts when the socket closes');
  assert.equal((signals[2]!.reason as { code: string }).code, 'GAW_ERR_CONN_CLOSED');
});

test('server close lets calls in flight finish, refuses new ones with -32001, then closes with 1001', async () => {
  const { server: s, url } = await start();
  gates.length = 0;
  const rpc = await WsRpc.open(url, { protocols: bearer });
  const held = rpc.call('chat.held');
  await until(() => gates.length === 1, 'the held call started');
  const closing = s.close();
  const refused = await rpc.call('chat.echo', ['late']);
  assert.equal((refused.error as { code: number }).code, -32001);
  gates[0]!.open();
  assert.equal((await held).result, 'released');
  const closed = await within(rpc.closed, 5_000, 'the 1001 close');
  assert.equal(closed.code, 1001);
  await closing;
});

test('a binary frame closes with 1003; without websocket the upgrade is not taken', async () => {
  const { url } = await start();
  const rpc = await WsRpc.open(url, { protocols: bearer });
  rpc.ws.send(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"rpc.ping"}'), { binary: true });
  assert.equal((await rpc.closed).code, 1003);
  const plain = new GawServer({ host: '127.0.0.1', port: 0, http: { port: 0 } }).add(Chat);
  await plain.listen();
  track(() => plain.close());
  const refused = await refusalOf(`ws://127.0.0.1:${plain.httpAddress!.port}/api`);
  assert.equal(refused.status, 405);
  await plain.close();
});
