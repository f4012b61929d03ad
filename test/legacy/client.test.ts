import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { LegacyClient } from '../../src/legacy/index.js';
import type { LegacyClientOptions } from '../../src/legacy/index.js';
import { FakePythonServer, MathResult, mathRegistry, requestIdOf } from './peers.js';
import type { PythonAction, PythonMode } from './peers.js';
import { jsonOf, loadTranscript, wireFrames } from './transcript.js';

const reads = loadTranscript();
const transcriptRequests = wireFrames(reads, 'C>S').map((frame) => jsonOf(frame).toString());
const transcriptReplies = wireFrames(reads, 'S>C').map((frame) => jsonOf(frame).toString());
const ID_PATTERN = /\d{30,}/g;

/** A stand-in Python Gaw server answering the transcript's calls with the transcript's replies. */
function transcriptServer(requestJson: string): PythonAction {
  const id = requestIdOf(requestJson);
  const path = /"path": "([^"]+)"/.exec(requestJson)![1];
  const index = ['math_service/plus', 'math_service/multiply', 'math_service/divide'].indexOf(path!);
  if (index < 0) throw new Error(`unexpected path ${path}`);
  return { json: transcriptReplies[index]!.replace(ID_PATTERN, id) };
}

async function fake(
  t: TestContext,
  mode: PythonMode,
  secret: string | undefined,
  handle: (json: string) => PythonAction,
) {
  const server = await FakePythonServer.start(mode, secret, handle);
  t.after(() => server.close());
  return server;
}

function clientFor(t: TestContext, port: number, options: Partial<LegacyClientOptions> = {}): LegacyClient {
  const client = new LegacyClient({ host: '127.0.0.1', port, registry: mathRegistry(), ...options });
  t.after(() => client.destroy());
  return client;
}

test("calls to a Python Gaw server send the transcript's exact requests and revive its replies", async (t) => {
  const server = await fake(t, 'plain', undefined, transcriptServer);
  const client = clientFor(t, server.port);
  assert.equal(await client.call('math_service.plus', [10, 20]), 'Hello!: 30');
  const product = await client.call('math_service.multiply', { a: 10, b: 20 });
  assert.ok(product instanceof MathResult);
  assert.deepEqual({ ...product }, { header: 'Hello!', result: 200 });
  await assert.rejects(client.call('math_service.divide', [1, 0]), (err: any) => {
    assert.equal(err.code, 'GAW_ERR_REMOTE');
    assert.equal(err.rpcCode, -32601);
    assert.equal(err.message, 'KeyError: path: math_service/divide not found');
    assert.equal(err.data.name, 'KeyError');
    assert.match(err.data.trace, /^Traceback/);
    return true;
  });
  // Byte for byte what Python Gaw's client sent, but for the (random, 128-bit) id.
  assert.equal(server.requests.length, 3);
  server.requests.forEach((json, i) => {
    assert.equal(json, transcriptRequests[i]!.replace(ID_PATTERN, requestIdOf(json)));
    assert.ok(BigInt(requestIdOf(json)) < 2n ** 128n);
  });
  assert.notEqual(requestIdOf(server.requests[0]!), requestIdOf(server.requests[1]!));
  assert.equal(server.sockets.size, 1, 'sequential calls reuse one connection');
});

for (const [mode, bytes] of [
  ['sign', 24],
  ['encrypt', 16],
  ['encrypt', 32],
] as const) {
  test(`a Python Gaw server in ${mode} mode with a ${bytes}-byte key is called with its own key handling`, async (t) => {
    const secret = randomBytes(bytes).toString('base64');
    const server = await fake(t, mode, secret, transcriptServer);
    const client = clientFor(t, server.port, { secret, encrypt: mode === 'encrypt' });
    assert.equal(await client.call('math_service.plus', [10, 20]), 'Hello!: 30');
    assert.ok((await client.call('math_service.multiply', { a: 1, b: 2 })) instanceof MathResult);
  });
}

test('a reply sealed with another key fails authentication and names the likely cause', async (t) => {
  // The stand-in reads requests unchecked (plain) and answers 64 bytes that no key signed.
  const server = await fake(t, 'plain', undefined, () => ({ raw: randomBytes(64) }));
  const client = clientFor(t, server.port, { secret: randomBytes(32).toString('base64') });
  await assert.rejects(client.call('math_service.plus', [1, 2]), {
    code: 'GAW_ERR_AUTH_FAILED',
    message: /secret .* probably wrong/,
  });
});

test("a Python server's transport error (succ false) rejects with GAW_ERR_LEGACY_REJECTED", async (t) => {
  const reply =
    '{"succ": false, "data": {"name": "DecodeError", "message": "signature verification failed", "trace": null}}';
  const server = await fake(t, 'plain', undefined, () => ({ json: reply }));
  const client = clientFor(t, server.port);
  await assert.rejects(client.call('math_service.plus', [1, 2]), {
    code: 'GAW_ERR_LEGACY_REJECTED',
    message: /DecodeError: signature verification failed \(the secret or the encrypt setting/,
  });
});

test('a reply to another id, or of the wrong shape, rejects with GAW_ERR_BAD_RESPONSE', async (t) => {
  const replies = [transcriptReplies[0]!, '{"succ": true, "data": {"weird": 1}}', 'not json'];
  let n = 0;
  const server = await fake(t, 'plain', undefined, () => ({ json: replies[n++]! }));
  const client = clientFor(t, server.port);
  await assert.rejects(client.call('math_service.plus', [1, 2]), {
    code: 'GAW_ERR_BAD_RESPONSE',
    message: /different request id/,
  });
  await assert.rejects(client.call('math_service.plus', [1, 2]), {
    code: 'GAW_ERR_BAD_RESPONSE',
    message: /ResponseDataType/,
  });
  await assert.rejects(client.call('math_service.plus', [1, 2]), {
    code: 'GAW_ERR_BAD_RESPONSE',
    message: /invalid JSON/,
  });
});

test('a bad frame header from the server rejects with a ProtocolError', async (t) => {
  const server = await fake(t, 'plain', undefined, () => ({ raw: Buffer.alloc(0) }));
  const client = clientFor(t, server.port);
  await assert.rejects(client.call('math_service.plus', [1, 2]), { code: 'GAW_ERR_BAD_FRAME' });
});

test('a server that hangs up before replying rejects with GAW_ERR_CONN_CLOSED, and the next call reconnects', async (t) => {
  let n = 0;
  const server = await fake(t, 'plain', undefined, (json) => (n++ === 0 ? 'close' : transcriptServer(json)));
  const client = clientFor(t, server.port);
  await assert.rejects(client.call('math_service.plus', [10, 20]), {
    code: 'GAW_ERR_CONN_CLOSED',
    mayHaveReachedServer: true,
  });
  assert.equal(await client.call('math_service.plus', [10, 20]), 'Hello!: 30');
});

test('a call without a reply times out, an aborted call rejects, and neither blocks the next call', async (t) => {
  let n = 0;
  const server = await fake(t, 'plain', undefined, (json) => (n++ < 2 ? 'silent' : transcriptServer(json)));
  const client = clientFor(t, server.port, { maxConnections: 1 });
  await assert.rejects(client.call('math_service.plus', [1, 2], { timeoutMs: 50 }), { code: 'GAW_ERR_CALL_TIMEOUT' });
  const controller = new AbortController();
  const aborted = client.call('math_service.plus', [1, 2], { signal: controller.signal });
  await server.requestsReceived(2);
  controller.abort();
  await assert.rejects(aborted, { code: 'GAW_ERR_ABORTED' });
  assert.equal(await client.call('math_service.plus', [10, 20]), 'Hello!: 30');
  await assert.rejects(client.call('math_service.plus', [1, 2], { signal: AbortSignal.abort() }), {
    code: 'GAW_ERR_ABORTED',
  });
});

test('calls beyond the pool size wait for a free connection', async (t) => {
  const server = await fake(t, 'plain', undefined, transcriptServer);
  const client = clientFor(t, server.port, { maxConnections: 2 });
  const results = await Promise.all(Array.from({ length: 8 }, () => client.call('math_service.plus', [10, 20])));
  assert.deepEqual(results, Array(8).fill('Hello!: 30'));
  assert.equal(server.sockets.size, 2);
});

test('a refused connection rejects with GAW_ERR_CONN_REFUSED and says the request never left', async () => {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const client = new LegacyClient({ host: '127.0.0.1', port });
  await assert.rejects(client.call('math_service.plus', [1, 2]), {
    code: 'GAW_ERR_CONN_REFUSED',
    mayHaveReachedServer: false,
  });
  await client.close();
});

test('close lets calls in flight finish, then refuses new calls', async (t) => {
  const server = await fake(t, 'plain', undefined, transcriptServer);
  const client = new LegacyClient({ host: '127.0.0.1', port: server.port, registry: mathRegistry() });
  const inFlight = client.call('math_service.plus', [10, 20]);
  const closing = client.close();
  assert.equal(client.close(), closing);
  assert.equal(await inFlight, 'Hello!: 30');
  await closing;
  await assert.rejects(client.call('math_service.plus', [1, 2]), { code: 'GAW_ERR_CLOSED' });
  // The client's connection is gone: the server sees it close.
  await Promise.all([...server.sockets].map((socket) => (socket.closed ? undefined : once(socket, 'close'))));
  assert.equal(server.sockets.size, 0);
});

test('bad methods, params and options are refused before anything is sent', async () => {
  const client = new LegacyClient({ host: '127.0.0.1', port: 1 });
  await assert.rejects(client.call('no_dot', []), { code: 'GAW_ERR_INVALID_OPTION', message: /service\.method/ });
  await assert.rejects(client.call('svc.', []), { code: 'GAW_ERR_INVALID_OPTION' });
  await assert.rejects(client.call('svc.m', 'text'), { code: 'GAW_ERR_INVALID_OPTION', message: /params/ });
  await assert.rejects(client.call('svc.m', [() => 1]), { code: 'GAW_ERR_UNENCODABLE', message: /args\[0\]/ });
  await client.close();
  assert.throws(() => new LegacyClient({ host: '127.0.0.1', port: 0 }), {
    code: 'GAW_ERR_INVALID_OPTION',
    message: /port/,
  });
  assert.throws(() => new LegacyClient({ host: '127.0.0.1', port: 1, secret: 'x' }), { code: 'GAW_ERR_BAD_SECRET' });
});

test('destroy rejects calls in progress with GAW_ERR_CONN_CLOSED', async (t) => {
  const server = await fake(t, 'plain', undefined, () => 'silent');
  const client = new LegacyClient({ host: '127.0.0.1', port: server.port });
  const call = client.call('math_service.plus', [1, 2]);
  await server.requestsReceived(1);
  client.destroy();
  await assert.rejects(call, { code: 'GAW_ERR_CONN_CLOSED' });
});
