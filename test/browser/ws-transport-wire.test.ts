// What gaw/browser's WebSocket transport puts on the wire and how it takes what a peer does, seen
// from a real `ws` server on loopback that plays the bridge (each test scripts it): the token only
// in rpc.auth, first; the budget left in gaw.timeoutMs; rpc.cancel for an aborted call; a socket
// that cannot be opened failing the calls at once; a dropped socket, the reconnect and the renewed
// subscriptions; 4401 ending it for good. The real endpoint is in chromium-websocket.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { GawBrowserClient } from '../../src/browser/index.js';
import type { WebSocketConstructor } from '../../src/browser/index.js';
import type { GawError } from '../../src/errors.js';
import { until } from '../helpers/server-fixtures.js';

const ws = WebSocket as unknown as WebSocketConstructor;

interface Peer {
  url: string;
  /** Every message received, parsed, by socket number (0, 1, ...). */
  received: unknown[][];
  sockets: WebSocket[];
  handshakes: { url: string; protocol: string | undefined }[];
  close(): Promise<void>;
}

/** A `ws` server on port 0 that records what it gets and answers with `answer` (nothing when it returns undefined). */
async function startPeer(answer: (message: any, socket: WebSocket) => unknown): Promise<Peer> {
  const server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    handleProtocols: (offered) => [...offered][0] ?? false,
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const peer: Peer = {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/api`,
    received: [],
    sockets: [],
    handshakes: [],
    close: () => {
      for (const socket of peer.sockets) socket.terminate();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (socket, req) => {
    const log: unknown[] = [];
    peer.received.push(log);
    peer.sockets.push(socket);
    peer.handshakes.push({ url: req.url ?? '', protocol: socket.protocol || undefined });
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      log.push(message);
      const reply = answer(message, socket);
      if (reply !== undefined) socket.send(JSON.stringify(reply));
    });
  });
  return peer;
}

test('the token goes only in rpc.auth, first; calls wait for its answer and carry what is left of their budget; an aborted call sends rpc.cancel', async () => {
  let authSocket: WebSocket | undefined;
  let authId: unknown;
  const peer = await startPeer((m, socket) => {
    if (m.method === 'rpc.auth') {
      authSocket = socket;
      authId = m.id;
      return undefined; // answered by the test, later
    }
    if (m.method === 'echo') return { jsonrpc: '2.0', id: m.id, result: m.params };
    return undefined; // 'hang' is never answered
  });
  const client = new GawBrowserClient({ url: peer.url, token: 'wire-token', WebSocket: ws });
  try {
    const echoed = client.call('echo', ['hi'], { timeoutMs: 5_000 });
    // The call's deadline is fixed by now (call() reaches the transport before it returns).
    const started = Date.now();
    await until(() => authSocket !== undefined, 'rpc.auth arrived');
    await until(() => Date.now() - started >= 300, '300 ms passed');
    assert.equal(peer.received[0]!.length, 1, 'nothing but rpc.auth before it is answered');
    authSocket!.send(JSON.stringify({ jsonrpc: '2.0', id: authId, result: true }));
    assert.deepEqual(await echoed, ['hi']);
    assert.deepEqual(
      peer.handshakes,
      [{ url: '/api', protocol: 'gaw.jsonrpc' }],
      'no token in the URL or the subprotocol',
    );
    const [auth, call] = peer.received[0] as any[];
    assert.deepEqual(auth, { jsonrpc: '2.0', id: 0, method: 'rpc.auth', params: { token: 'wire-token' } });
    assert.equal(call.method, 'echo');
    assert.ok(call.gaw.timeoutMs <= 4_700 && call.gaw.timeoutMs > 0, `the budget sent was ${call.gaw.timeoutMs} ms`);
    const controller = new AbortController();
    const hung = client.call('hang', [], { signal: controller.signal });
    await until(() => peer.received[0]!.some((m: any) => m.method === 'hang'), 'the call was sent');
    controller.abort();
    await assert.rejects(hung, { code: 'GAW_ERR_ABORTED' });
    const hang = peer.received[0]!.find((m: any) => m.method === 'hang') as any;
    await until(() => peer.received[0]!.some((m: any) => m.method === 'rpc.cancel'), 'rpc.cancel was sent');
    assert.deepEqual(peer.received[0]!.at(-1), { jsonrpc: '2.0', method: 'rpc.cancel', params: { id: hang.id } });
  } finally {
    client.close();
    await peer.close();
  }
});

test('a socket that cannot be opened (a refused upgrade, a closed port) fails the waiting call at once with GAW_ERR_CONN_REFUSED', async () => {
  const refusing = createServer();
  refusing.on('upgrade', (_req, socket) =>
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'),
  );
  await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
  const port = (refusing.address() as AddressInfo).port;
  try {
    const client = new GawBrowserClient({ url: `ws://127.0.0.1:${port}/api`, WebSocket: ws, timeoutMs: 20_000 });
    const started = Date.now();
    await assert.rejects(client.call('echo'), (err: GawError) => {
      assert.equal(err.name, 'ConnectionError');
      assert.equal(err.code, 'GAW_ERR_CONN_REFUSED');
      assert.match(err.message, /could not open a WebSocket/);
      return true;
    });
    assert.ok(Date.now() - started < 10_000, 'not left waiting for its 20 s timeout');
    client.close();
  } finally {
    await new Promise((resolve) => refusing.close(resolve));
  }
  const closed = new GawBrowserClient({ url: `ws://127.0.0.1:${port}/api`, WebSocket: ws, timeoutMs: 20_000 });
  await assert.rejects(closed.call('echo'), { code: 'GAW_ERR_CONN_REFUSED' });
  closed.close();
});

test('a dropped socket fails its calls in flight; the next socket renews the subscriptions; a 4401 ends reconnecting', async () => {
  const peer = await startPeer((m) => {
    if (m.method === 'rpc.subscribe')
      return m.id === undefined ? undefined : { jsonrpc: '2.0', id: m.id, result: m.params };
    if (m.method === 'echo') return { jsonrpc: '2.0', id: m.id, result: m.params };
    return undefined;
  });
  const pushed: unknown[] = [];
  const client = new GawBrowserClient({
    url: peer.url,
    WebSocket: ws,
    reconnectDelayMs: 20,
    onNotification: (method, params) => pushed.push([method, params]),
  });
  try {
    await client.subscribe(['news']);
    const hung = client.call('hang');
    await until(() => peer.received[0]!.some((m: any) => m.method === 'hang'), 'the call was sent');
    peer.sockets[0]!.close(1001, 'going away');
    await assert.rejects(hung, { code: 'GAW_ERR_CONN_CLOSED' });
    // With a subscription the client reconnects by itself and renews it (a notification: nothing to answer).
    await until(() => peer.received[1]?.some((m: any) => m.method === 'rpc.subscribe') === true, 'renewed');
    assert.deepEqual(peer.received[1], [{ jsonrpc: '2.0', method: 'rpc.subscribe', params: ['news'] }]);
    peer.sockets[1]!.send(JSON.stringify({ jsonrpc: '2.0', method: 'news', params: { n: 1 } }));
    await until(() => pushed.length === 1, 'the push arrived');
    assert.deepEqual(pushed, [['news', { n: 1 }]]);
    assert.deepEqual(await client.call('echo', [2]), [2]);
    // The server ends it: 4401. No new socket, and every call says why.
    const inFlight = client.call('hang');
    await until(() => peer.received[1]!.some((m: any) => m.method === 'hang'), 'the call was sent');
    peer.sockets[1]!.close(4401, 'unauthorized');
    await assert.rejects(inFlight, { name: 'RemoteError', rpcCode: -32600, data: { httpStatus: 401 } });
    await assert.rejects(client.call('echo', [3]), { name: 'RemoteError', rpcCode: -32600, data: { httpStatus: 401 } });
    await assert.rejects(client.call('echo', [4]), { name: 'RemoteError', rpcCode: -32600 });
    assert.equal(peer.sockets.length, 2, 'no reconnect after 4401');
  } finally {
    client.close();
    await peer.close();
  }
});
