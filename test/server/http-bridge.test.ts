// The HTTP /api bridge over real HTTP on 127.0.0.1: the seed example, every spec example, each
// status code, bearer tokens, class-tagged replies, keep-alive under concurrency, close().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { UsageError } from '../../src/errors.js';
import { Registry } from '../../src/serializable/index.js';
import { HttpBridge, isJsonContentType } from '../../src/server/http-bridge.js';
import { entrypoint } from '../../src/server/service.js';
import { SpecService, assertSpecReply, specCases } from './spec-helpers.js';
import { assertRefusal, json, postJson, request, startBridge } from './http-helpers.js';

class Hello {
  static serviceName = 'hello';
  @entrypoint say_hello(name: string) {
    return `hello ${name}`;
  }
}

test('the seed example answers byte for byte', async () => {
  const { bridge, port } = await startBridge([Hello]);
  try {
    const reply = await request(port, {
      headers: { 'Content-Type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"say_hello","params":{"name":"world"}}',
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'application/json');
    assert.equal(reply.body, '{"jsonrpc":"2.0","id":1,"result":"hello world"}');
  } finally {
    await bridge.close();
  }
});

test('every JSON-RPC 2.0 specification example gets the specified reply over HTTP', async () => {
  const { bridge, port } = await startBridge([SpecService]);
  try {
    for (const specCase of specCases) {
      const reply = await postJson(port, specCase.request_raw ?? JSON.stringify(specCase.request));
      if (specCase.expect === 'no_response') {
        assert.equal(reply.status, 204, specCase.id);
        assert.equal(reply.body, '', specCase.id);
        assertSpecReply(undefined, specCase);
      } else {
        assert.equal(reply.status, 200, specCase.id);
        assertSpecReply(JSON.parse(reply.body), specCase);
      }
    }
  } finally {
    await bridge.close();
  }
});

test('wrong methods, paths and content types get 405, 404 and 415; /health answers 200', async () => {
  const { bridge, port } = await startBridge([Hello]);
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'say_hello', params: ['x'] });
  try {
    for (const method of ['GET', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const reply = await request(port, { method, headers: json });
      assert.equal(reply.status, 405, method);
      assert.equal(reply.headers.allow, 'POST', method);
      assertRefusal(reply, 405, -32600, /use POST/);
    }
    for (const path of ['/', '/apix', '/api/x', '/API', '/health/x']) {
      const reply = await request(port, { path, headers: json, body });
      assertRefusal(reply, 404, -32600, /POST \/api/);
    }
    assert.equal((await request(port, { path: '/api?x=1', headers: json, body })).status, 200);
    for (const type of [
      undefined,
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonx',
      'application/json; charset=latin1',
      'application/json-rpc; charset=utf-16',
      'text/json-rpc',
    ]) {
      const headers: Record<string, string> = type === undefined ? {} : { 'Content-Type': type };
      const reply = await request(port, { headers, body });
      assertRefusal(reply, 415, -32600, /Content-Type: application\/json/);
    }
    for (const type of [
      'application/json; charset=utf-8',
      'Application/JSON;charset="UTF-8"',
      'application/json; charset=utf8; foo=bar',
      'application/json-rpc',
      'application/json-rpc; charset=UTF-8',
      'application/jsonrequest',
    ]) {
      assert.equal((await request(port, { headers: { 'Content-Type': type }, body })).status, 200, type);
    }
    const health = await request(port, { method: 'GET', path: '/health' });
    assert.deepEqual([health.status, JSON.parse(health.body)], [200, { status: 'ok' }]);
    assert.equal((await request(port, { method: 'HEAD', path: '/health' })).status, 200);
    const postHealth = await request(port, { method: 'POST', path: '/health' });
    assert.deepEqual([postHealth.status, postHealth.headers.allow], [405, 'GET, HEAD']);
  } finally {
    await bridge.close();
  }
});

test('a notification and an all-notification batch get 204 with no body', async () => {
  const { bridge, port } = await startBridge([SpecService]);
  try {
    const single = await postJson(port, { jsonrpc: '2.0', method: 'update', params: [1] });
    assert.deepEqual([single.status, single.body, single.headers['content-length']], [204, '', undefined]);
    const batch = await postJson(port, [
      { jsonrpc: '2.0', method: 'update' },
      { jsonrpc: '2.0', method: 'missing' },
    ]);
    assert.deepEqual([batch.status, batch.body], [204, '']);
  } finally {
    await bridge.close();
  }
});

test('a body that is not JSON gets 200 with the -32700 reply; a too deep one too', async () => {
  const { bridge, port } = await startBridge([Hello]);
  try {
    for (const body of ['{"jsonrpc":', '', '\u00ff', '['.repeat(100) + ']'.repeat(100)]) {
      const reply = await postJson(port, body);
      assert.equal(reply.status, 200);
      const parsed = JSON.parse(reply.body);
      assert.equal(parsed.id, null);
      assert.equal(parsed.error.code, -32700);
    }
  } finally {
    await bridge.close();
  }
});

test('with a token, /api needs Authorization: Bearer <token> and answers 401 otherwise', async () => {
  const warnings: unknown[] = [];
  const logger = { debug() {}, info() {}, error() {}, warn: (obj: unknown) => warnings.push(obj) };
  const token = 's3cr3t-token-value';
  const { bridge, port } = await startBridge([Hello], { token, logger });
  const body = { jsonrpc: '2.0', id: 1, method: 'say_hello', params: ['x'] };
  try {
    for (const authorization of [
      undefined,
      '',
      'Bearer',
      'Bearer wrong',
      `Basic ${token}`,
      `Bearer ${token}x`,
      `Bearer ${token.slice(1)}`,
      `Bearer ${'a'.repeat(5000)}`,
    ]) {
      const headers: Record<string, string> = authorization === undefined ? {} : { Authorization: authorization };
      const reply = await postJson(port, body, { headers });
      assertRefusal(reply, 401, -32600, /bearer token is required/);
      assert.equal(reply.headers['www-authenticate'], 'Bearer');
      assert.ok(!reply.body.includes(token));
    }
    assert.equal(warnings.length, 8);
    assert.ok(!JSON.stringify(warnings).includes(token), 'the token is never logged');
    for (const authorization of [`Bearer ${token}`, `bearer ${token}`, `Bearer  ${token} `]) {
      const reply = await postJson(port, body, { headers: { Authorization: authorization } });
      assert.equal(reply.status, 200, authorization);
      assert.equal(JSON.parse(reply.body).result, 'hello x');
    }
    assert.equal((await request(port, { method: 'GET', path: '/health' })).status, 200, '/health needs no token');
  } finally {
    await bridge.close();
  }
  const open = await startBridge([Hello]);
  try {
    assert.equal((await postJson(open.port, body)).status, 200, 'without a token the bridge is open');
  } finally {
    await open.bridge.close();
  }
});

class MathResult {
  constructor(
    public header = '',
    public result = 0,
  ) {}
}
class Unregistered {
  value = 1;
}

test('replies use the class-tag form, and a result that cannot be encoded becomes -32603 for its id only', async () => {
  const registry = new Registry();
  registry.register(MathResult, { tag: 'MathResult' });
  class Math {
    static serviceName = 'math';
    @entrypoint multiply(a: number, b: number) {
      return new MathResult('hi', a * b);
    }
    @entrypoint broken() {
      return new Unregistered();
    }
  }
  const { bridge, port } = await startBridge([Math], { registry, dispatcher: { registry } });
  try {
    const reply = await postJson(port, { jsonrpc: '2.0', id: 1, method: 'multiply', params: [10, 20] });
    assert.equal(reply.body, '{"jsonrpc":"2.0","id":1,"result":{"_t":"MathResult","_v":{"header":"hi","result":200}}}');
    const batch = await postJson(port, [
      { jsonrpc: '2.0', id: 1, method: 'broken' },
      { jsonrpc: '2.0', id: 2, method: 'multiply', params: [1, 2] },
    ]);
    assert.equal(batch.status, 200);
    const [first, second] = JSON.parse(batch.body);
    assert.equal(first.id, 1);
    assert.equal(first.error.code, -32603);
    assert.match(first.error.message, /^Internal error: the result could not be encoded/);
    assert.deepEqual(second, { jsonrpc: '2.0', id: 2, result: { _t: 'MathResult', _v: { header: 'hi', result: 2 } } });
  } finally {
    await bridge.close();
  }
});

test('a dispatch function that rejects gets 500 with -32603 and no details', async () => {
  const { bridge, port } = await startBridge([Hello], {
    dispatch: () => Promise.reject(new Error('upstream secret detail')),
  });
  try {
    const reply = await postJson(port, [
      { jsonrpc: '2.0', id: 4, method: 'x' },
      { jsonrpc: '2.0', method: 'n' },
    ]);
    assert.equal(reply.status, 500);
    assert.deepEqual(JSON.parse(reply.body), [
      { jsonrpc: '2.0', id: 4, error: { code: -32603, message: 'Internal error' } },
    ]);
  } finally {
    await bridge.close();
  }
});

test('200 concurrent requests on keep-alive connections are all answered correctly', async () => {
  class Mixed {
    static serviceName = 'mixed';
    @entrypoint async slow(n: number) {
      await new Promise((resolve) => setTimeout(resolve, n % 7));
      return n * 3;
    }
    @entrypoint fast(n: number) {
      return n + 1;
    }
  }
  const { bridge, port } = await startBridge([Mixed]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  try {
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        postJson(port, { jsonrpc: '2.0', id: i, method: i % 2 ? 'slow' : 'fast', params: [i] }, { agent }),
      ),
    );
    const sockets = new Set<unknown>();
    replies.forEach((reply, i) => {
      assert.equal(reply.status, 200);
      assert.deepEqual(JSON.parse(reply.body), { jsonrpc: '2.0', id: i, result: i % 2 ? i * 3 : i + 1 });
      sockets.add(reply.socketId);
    });
    assert.ok(sockets.size <= 16, `requests shared ${sockets.size} keep-alive connections`);
  } finally {
    agent.destroy();
    await bridge.close();
  }
});

test('close() lets a request in progress finish, stops listening, and is harmless twice', async () => {
  let release: () => void = () => {};
  const started = { resolve: () => {} } as { resolve: () => void };
  const isStarted = new Promise<void>((resolve) => {
    started.resolve = resolve;
  });
  class Gate {
    static serviceName = 'gate';
    @entrypoint async wait() {
      started.resolve();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return 'finished';
    }
  }
  const { bridge, port } = await startBridge([Gate]);
  const agent = new http.Agent({ keepAlive: true });
  const pending = postJson(port, { jsonrpc: '2.0', id: 1, method: 'wait' }, { agent });
  await isStarted;
  const closing = bridge.close();
  assert.equal(bridge.close(), closing);
  release();
  const reply = await pending;
  assert.deepEqual(JSON.parse(reply.body), { jsonrpc: '2.0', id: 1, result: 'finished' });
  assert.equal(reply.headers.connection, 'close');
  await closing;
  agent.destroy();
  assert.throws(
    () => bridge.address,
    (err: unknown) => err instanceof UsageError && err.code === 'GAW_ERR_CLOSED',
  );
  await assert.rejects(
    new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
      socket.on('error', reject);
    }),
    /ECONNREFUSED/,
  );
  await assert.rejects(bridge.listen(), (err: unknown) => err instanceof UsageError && err.code === 'GAW_ERR_CLOSED');
});

test('listening on a taken port is GAW_ERR_ADDRESS_IN_USE', async () => {
  const { bridge, port } = await startBridge([Hello]);
  const second = new HttpBridge({ dispatch: async () => undefined, port });
  try {
    await assert.rejects(
      second.listen(),
      (err: unknown) => err instanceof UsageError && err.code === 'GAW_ERR_ADDRESS_IN_USE',
    );
  } finally {
    await second.close();
    await bridge.close();
  }
});

test('options are validated with a message naming the option', () => {
  const dispatch = async (): Promise<undefined> => undefined;
  const cases: [object, RegExp][] = [
    [{}, /dispatch function/],
    [{ dispatch, port: 70000 }, /port/],
    [{ dispatch, maxBodyBytes: 0 }, /maxBodyBytes/],
    [{ dispatch, bodyTimeoutMs: -5 }, /bodyTimeoutMs/],
    [{ dispatch, token: '' }, /token must be/],
    [{ dispatch, token: 'has space' }, /token must be/],
    [{ dispatch, host: '' }, /host/],
  ];
  for (const [options, pattern] of cases) {
    assert.throws(
      () => new HttpBridge(options as never),
      (err: unknown) => err instanceof UsageError && err.code === 'GAW_ERR_INVALID_OPTION' && pattern.test(err.message),
      JSON.stringify(options),
    );
  }
});

test('isJsonContentType accepts the JSON-RPC media types with a UTF-8 charset or none', () => {
  assert.equal(isJsonContentType('application/json'), true);
  assert.equal(isJsonContentType('application/json-rpc'), true);
  assert.equal(isJsonContentType('APPLICATION/JSONREQUEST; charset=utf-8'), true);
  assert.equal(isJsonContentType('application/json-rpc; charset=iso-8859-1'), false);
  assert.equal(isJsonContentType(' application/json ; charset=UTF-8'), true);
  assert.equal(isJsonContentType('application/json;charset=utf-16'), false);
  assert.equal(isJsonContentType('text/json'), false);
  assert.equal(isJsonContentType(undefined), false);
  assert.equal(isJsonContentType(`application/json;${' '.repeat(300)}`), false);
});

test('with a token required, a request with no Content-Type is taken; an open bridge refuses it with 415', async () => {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'say_hello', params: ['x'] });
  const guarded = await startBridge([Hello], { token: 'tok' });
  try {
    const reply = await request(guarded.port, { headers: { Authorization: 'Bearer tok' }, body });
    assert.deepEqual([reply.status, JSON.parse(reply.body)], [200, { jsonrpc: '2.0', id: 7, result: 'hello x' }]);
    assertRefusal(await request(guarded.port, { body }), 401, -32600, /bearer token/);
  } finally {
    await guarded.bridge.close();
  }
  const open = await startBridge([Hello]);
  try {
    assertRefusal(await request(open.port, { body }), 415, -32600, /Content-Type/);
  } finally {
    await open.bridge.close();
  }
});
