// The HTTP bridge's caps over real sockets: requests in flight (503 with -32002 past maxInFlight,
// counting slow bodies as well as hanging handlers), open connections (past maxConnections a new
// one is closed at once), and the headers timeout, shorter than the body timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { UsageError } from '../../src/errors.js';
import { GawServer } from '../../src/server/index.js';
import { HttpBridge } from '../../src/server/http-bridge.js';
import { entrypoint } from '../../src/server/service.js';
import { Arrivals, Gate, until, within } from '../helpers/server-fixtures.js';
import { assertRefusal, postJson, startBridge } from './http-helpers.js';

let gate = new Gate();
let arrivals = new Arrivals(0);
let runs = 0;
class Slow {
  static serviceName = 'slow';
  @entrypoint async wait(n: number) {
    runs++;
    arrivals.arrive();
    await gate.promise;
    return n;
  }
}

const call = (n: number) => ({ jsonrpc: '2.0', id: n, method: 'slow.wait', params: [n] });

/** A raw socket that has sent `text`; `closed` resolves with what the server sent before closing it. */
function rawSocket(port: number, text: string): Promise<{ socket: net.Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (data) => {
      received += data.toString('latin1');
    });
    const closed = new Promise<string>((done) => socket.once('close', () => done(received)));
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      if (text !== '') socket.write(text);
      resolve({ socket, closed });
    });
  });
}

test('past maxInFlight, a request gets 503 with -32002 and Retry-After, and nothing runs; freed slots serve again', async () => {
  gate = new Gate();
  arrivals = new Arrivals(4);
  runs = 0;
  const server = new GawServer({ port: 0, http: { port: 0, maxInFlight: 4 } }).add(Slow);
  await server.listen();
  try {
    const port = server.httpAddress!.port;
    const hanging = [1, 2, 3, 4].map((n) => postJson(port, call(n)));
    await within(arrivals.all, 5_000, 'four handlers running');
    const refused = await postJson(port, call(5));
    assertRefusal(refused, 503, -32002, /^Server overloaded: 4 requests are already in progress/);
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(runs, 4, 'the refused request did not run');
    gate.open();
    const replies = await Promise.all(hanging);
    assert.deepEqual(
      replies.map((r) => JSON.parse(r.body).result),
      [1, 2, 3, 4],
    );
    arrivals = new Arrivals(1);
    assert.equal(JSON.parse((await postJson(port, call(6))).body).result, 6);
  } finally {
    gate.open();
    await server.close();
  }
});

test('requests whose body is still arriving count against maxInFlight too', async () => {
  const bridge = new HttpBridge({ dispatch: async () => undefined, maxInFlight: 3 });
  await bridge.listen();
  const sockets: net.Socket[] = [];
  try {
    const { port } = bridge.address;
    const head =
      'POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"js';
    for (let i = 0; i < 3; i++) sockets.push((await rawSocket(port, head)).socket);
    await until(() => bridge.inFlight === 3, 'three slow bodies in flight');
    assertRefusal(await postJson(port, call(1)), 503, -32002, /3 requests are already in progress/);
    sockets[0]!.destroy();
    await until(() => bridge.inFlight === 2, 'a slot freed when its client left');
    const reply = await postJson(port, { jsonrpc: '2.0', method: 'note' });
    assert.equal(reply.status, 204);
  } finally {
    for (const socket of sockets) socket.destroy();
    await bridge.close();
  }
});

test('past maxConnections a new connection is closed at once without a reply; a freed one is used again', async () => {
  const bridge = new HttpBridge({ dispatch: async () => undefined, maxConnections: 3 });
  await bridge.listen();
  const held: net.Socket[] = [];
  try {
    const { port } = bridge.address;
    for (let i = 0; i < 3; i++) held.push((await rawSocket(port, 'POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\n')).socket);
    const extra = await rawSocket(port, '');
    assert.equal(await within(extra.closed, 5_000, 'the fourth connection being closed'), '');
    held[0]!.destroy();
    let status = 0;
    for (const deadline = Date.now() + 5_000; status !== 204 && Date.now() < deadline; ) {
      status = await postJson(port, { jsonrpc: '2.0', method: 'note' }).then(
        (r) => r.status,
        () => 0,
      );
    }
    assert.equal(status, 204, 'a connection is accepted once one of the three has gone');
  } finally {
    for (const socket of held) socket.destroy();
    await bridge.close();
  }
});

test('the headers must arrive within headersTimeoutMs, which is shorter than the body timeout', async () => {
  const bridge = new HttpBridge({ dispatch: async () => undefined, headersTimeoutMs: 200, bodyTimeoutMs: 10_000 });
  await bridge.listen();
  try {
    const startMs = Date.now();
    const { closed } = await rawSocket(bridge.address.port, 'POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    assert.match(await within(closed, 5_000, 'slow headers being cut'), /^HTTP\/1\.1 408 /);
    const elapsedMs = Date.now() - startMs;
    assert.ok(elapsedMs < 3_000, `slow headers were cut after ${elapsedMs} ms`);
  } finally {
    await bridge.close();
  }
});

test('the caps are validated with a message naming the option', () => {
  const dispatch = async (): Promise<undefined> => undefined;
  for (const [options, pattern] of [
    [{ maxConnections: 0 }, /maxConnections/],
    [{ maxInFlight: 0 }, /maxInFlight/],
    [{ headersTimeoutMs: 0 }, /headersTimeoutMs/],
    [{ maxInFlight: 1.5 }, /maxInFlight/],
  ] as const) {
    assert.throws(
      () => new HttpBridge({ dispatch, ...options }),
      (err: unknown) => err instanceof UsageError && pattern.test(err.message),
      JSON.stringify(options),
    );
  }
});

test('makeRoom() closes connections with nothing being answered, keeps running requests, and stops accepting for a moment', async () => {
  gate = new Gate();
  arrivals = new Arrivals(1);
  const { bridge, port } = await startBridge([Slow]);
  try {
    const running = postJson(port, call(1));
    await within(arrivals.all, 5_000, 'the handler running');
    const partial = await rawSocket(port, 'POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const slowBody = await rawSocket(
      port,
      'POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{',
    );
    bridge.makeRoom();
    assert.equal(await within(partial.closed, 2_000, 'the half-sent headers closed'), '');
    assert.equal(await within(slowBody.closed, 2_000, 'the half-sent body closed'), '');
    await assert.rejects(rawSocket(port, ''), /ECONNREFUSED/, 'not accepting while paused');
    assert.equal(bridge.address.port, port, 'the address is still known while paused');
    gate.open();
    assert.equal(JSON.parse((await running).body).result, 1, 'the running request finished');
    let status = 0;
    for (const deadline = Date.now() + 5_000; status !== 200 && Date.now() < deadline; ) {
      status = await postJson(port, call(2)).then(
        (r) => r.status,
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 50));
          return 0;
        },
      );
    }
    assert.equal(status, 200, 'accepting again after the pause');
  } finally {
    gate.open();
    await bridge.close();
  }
});

test('a batch takes a maxInFlight slot per element: one that cannot fit now gets 503 and does not run', async () => {
  gate = new Gate();
  arrivals = new Arrivals(3);
  runs = 0;
  const server = new GawServer({ port: 0, http: { port: 0, maxInFlight: 4 } }).add(Slow);
  await server.listen();
  try {
    const port = server.httpAddress!.port;
    const batch = postJson(port, [call(1), call(2), call(3)]);
    await within(arrivals.all, 5_000, 'the batch of three running');
    // One slot is left: a batch of two does not fit now, though a single request would.
    assertRefusal(await postJson(port, [call(4), call(5)]), 503, -32002, /batch of 2 needs more of the 4 slots/);
    // A batch bigger than the cap takes all of it: it cannot start while anything else runs.
    assertRefusal(await postJson(port, [1, 2, 3, 4, 5].map(call)), 503, -32002, /batch of 5 needs more/);
    assert.equal(runs, 3, 'nothing refused ran');
    gate.open();
    const replies = JSON.parse((await batch).body) as { result: number }[];
    assert.deepEqual(replies.map((r) => r.result).sort(), [1, 2, 3]);
  } finally {
    gate.open();
    await server.close();
  }
});
