// DNS rebinding and cross-site requests against the HTTP bridge over real HTTP: a Host that does
// not name the server gets 421, a browser Origin that is not the server's (or allowed) gets 403,
// both with JSON-RPC bodies, and nothing runs; honest names, origins and allow-lists pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { UsageError } from '../../src/errors.js';
import { GawServer } from '../../src/server/index.js';
import { HttpBridge } from '../../src/server/http-bridge.js';
import { entrypoint } from '../../src/server/service.js';
import { within } from '../helpers/server-fixtures.js';
import { examplesDir, startGaw } from '../cli/run-gaw.js';
import { assertRefusal, postJson, startBridge } from './http-helpers.js';

let runs = 0;
class Counted {
  static serviceName = 'counted';
  @entrypoint run() {
    runs++;
    return 'ran';
  }
}

const call = { jsonrpc: '2.0', id: 1, method: 'counted.run' };

async function withHost(port: number, host: string, origin?: string) {
  return postJson(port, call, { headers: { Host: host, ...(origin !== undefined && { Origin: origin }) } });
}

test('a Host that does not name the server is refused with 421 and a JSON-RPC body, and nothing runs', async () => {
  const { bridge, port } = await startBridge([Counted]);
  try {
    runs = 0;
    for (const host of [
      'attacker.example',
      `attacker.example:${port}`,
      `localhost.attacker.example:${port}`,
      `127.0.0.1.nip.io:${port}`,
      'localhost.',
      '10.0.0.1',
      '[::2]',
      'a_b c',
      '[::1',
      'x'.repeat(400),
    ]) {
      assertRefusal(await withHost(port, host), 421, -32600, /does not name this server/);
    }
    assert.equal(runs, 0, 'no refused request ran');
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`, `[::1]:${port}`, 'localhost']) {
      const reply = await withHost(port, host);
      assert.equal(reply.status, 200, host);
      assert.equal(JSON.parse(reply.body).result, 'ran', host);
    }
  } finally {
    await bridge.close();
  }
});

test('a request without a Host header (HTTP/1.0) is answered', async () => {
  const { bridge, port } = await startBridge([Counted]);
  try {
    const body = JSON.stringify(call);
    const response = await within(
      new Promise<string>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        let text = '';
        socket.on('data', (data) => {
          text += data.toString('latin1');
        });
        socket.on('close', () => resolve(text));
        socket.write(
          `POST /api HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
      }),
      5_000,
      'the HTTP/1.0 reply',
    );
    assert.match(response, /^HTTP\/1\.1 200 [\s\S]*"result":"ran"/);
  } finally {
    await bridge.close();
  }
});

test('allowedHosts adds names, name:port pairs and .domain suffixes; other names stay refused', async () => {
  const { bridge, port } = await startBridge([Counted], {
    allowedHosts: ['api.example.com', '.internal.example', 'pinned.example:1'],
  });
  try {
    for (const host of [
      'api.example.com',
      `API.example.com:${port}`,
      'internal.example',
      'a.b.internal.example:80',
      'pinned.example:1',
    ]) {
      assert.equal((await withHost(port, host)).status, 200, host);
    }
    for (const host of ['example.com', 'xinternal.example', 'pinned.example:2', 'pinned.example']) {
      assertRefusal(await withHost(port, host), 421, -32600, /allowed hosts/);
    }
  } finally {
    await bridge.close();
  }
  const any = await startBridge([Counted], { allowedHosts: ['*'] });
  try {
    assert.equal((await withHost(any.port, 'anything.example')).status, 200, "'*' accepts any Host");
  } finally {
    await any.bridge.close();
  }
});

test('a browser Origin that is not this server is refused with 403; this server and allowed origins pass', async () => {
  const { bridge, port } = await startBridge([Counted], { allowedOrigins: ['https://app.example.com'] });
  try {
    runs = 0;
    const host = `127.0.0.1:${port}`;
    for (const origin of [
      'http://attacker.example',
      `http://attacker.example:${port}`,
      'null',
      `http://localhost:${port + 1}`,
      'http://127.0.0.1',
      `file://127.0.0.1:${port}`,
      `http://127.0.0.1:${port}/path`,
      'https://app.example.com.attacker.example',
      '',
    ]) {
      assertRefusal(await withHost(port, host, origin), 403, -32600, /web origin .* not allowed/);
    }
    assert.equal(runs, 0, 'no refused request ran');
    for (const origin of [
      `http://127.0.0.1:${port}`,
      `http://localhost:${port}`,
      `HTTP://LOCALHOST:${port}`,
      'https://app.example.com',
      'https://app.example.com:443',
    ]) {
      const reply = await withHost(port, host, origin);
      assert.equal(reply.status, 200, origin);
    }
  } finally {
    await bridge.close();
  }
});

test('the Host check comes before the token check, and a GawServer passes allowedHosts to its bridge', async () => {
  const server = new GawServer({
    port: 0,
    http: { port: 0, token: 'tok', allowedHosts: ['gaw.example'] },
  }).add(Counted);
  await server.listen();
  try {
    const port = server.httpAddress!.port;
    assertRefusal(await withHost(port, 'attacker.example'), 421, -32600, /does not name/);
    const headers = { Host: 'gaw.example', Authorization: 'Bearer tok' };
    assert.equal((await postJson(port, call, { headers })).status, 200);
    assertRefusal(await postJson(port, call, { headers: { Host: 'gaw.example' } }), 401, -32600, /token/);
  } finally {
    await server.close();
  }
});

test('allowedHosts and allowedOrigins are validated with a message naming the option', () => {
  const dispatch = async (): Promise<undefined> => undefined;
  const cases: [object, RegExp][] = [
    [{ allowedHosts: 'localhost' }, /allowedHosts must be an array/],
    [{ allowedHosts: [''] }, /allowedHosts entries/],
    [{ allowedHosts: ['http://x'] }, /allowedHosts entry "http:\/\/x"/],
    [{ allowedHosts: ['a b'] }, /allowedHosts entry/],
    [{ allowedOrigins: ['app.example.com'] }, /allowedOrigins entry "app.example.com" is not an origin/],
    [{ allowedOrigins: ['https://x/'] }, /allowedOrigins entry/],
  ];
  for (const [options, pattern] of cases) {
    assert.throws(
      () => new HttpBridge({ dispatch, ...options } as never),
      (err: unknown) => err instanceof UsageError && err.code === 'GAW_ERR_INVALID_OPTION' && pattern.test(err.message),
      JSON.stringify(options),
    );
  }
});

test('gaw --http-allowed-host adds names (repeated or comma-separated); others get 421', async () => {
  const gaw = await startGaw([
    `${examplesDir}services.js`,
    '--kwargs',
    '{"hello": "hi"}',
    '--port',
    '0',
    '--http-port',
    '0',
    '--http-allowed-host',
    'a.example,b.example',
    '--http-allowed-host',
    '.c.example',
  ]);
  try {
    const plus = { jsonrpc: '2.0', id: 1, method: 'math_service.plus', params: [1, 2] };
    for (const host of ['a.example', 'b.example', 'x.c.example', `127.0.0.1:${gaw.httpPort}`]) {
      const reply = await postJson(gaw.httpPort!, plus, { headers: { Host: host } });
      assert.deepEqual([reply.status, JSON.parse(reply.body).result], [200, 'hi: 3'], host);
    }
    assertRefusal(await postJson(gaw.httpPort!, plus, { headers: { Host: 'd.example' } }), 421, -32600, /Host/);
  } finally {
    gaw.child.kill('SIGTERM');
    await gaw.exited;
  }
});
