// CORS on POST /api over real HTTP: a preflight from a listed origin is answered (methods, headers,
// max-age, the origin echoed, never *), others are refused with a JSON-RPC 403; replies to a listed
// origin carry Access-Control-Allow-Origin and Vary: Origin, replies to anyone else carry none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';
import { GawServer } from '../../src/server/index.js';
import { HttpBridge } from '../../src/server/http-bridge.js';
import { entrypoint } from '../../src/server/service.js';
import { examplesDir, startGaw } from '../cli/run-gaw.js';
import { assertRefusal, postJson, request, startBridge } from './http-helpers.js';

let runs = 0;
class Counted {
  static serviceName = 'counted';
  @entrypoint run() {
    runs++;
    return 'ran';
  }
}

const call = { jsonrpc: '2.0', id: 1, method: 'counted.run' };
const app = 'https://app.example.com';

function preflight(port: number, origin: string | undefined, method = 'POST', headers?: string) {
  return request(port, {
    method: 'OPTIONS',
    headers: {
      ...(origin !== undefined && { Origin: origin }),
      'Access-Control-Request-Method': method,
      ...(headers !== undefined && { 'Access-Control-Request-Headers': headers }),
    },
  });
}

test('a preflight from a CORS origin is answered 204 without a token: POST, the headers gaw reads, max-age, the origin echoed', async () => {
  const { bridge, port } = await startBridge([Counted], { token: 'tok', corsOrigins: [app] });
  try {
    runs = 0;
    const reply = await preflight(
      port,
      app,
      'POST',
      'authorization, content-type, traceparent, tracestate, gaw-timeout-ms, x-request-id',
    );
    assert.equal(reply.status, 204);
    assert.equal(reply.body, '');
    assert.equal(reply.headers['access-control-allow-origin'], app);
    assert.equal(reply.headers['access-control-allow-methods'], 'POST');
    assert.deepEqual(reply.headers['access-control-allow-headers']!.split(', ').sort(), [
      'authorization',
      'content-type',
      'gaw-timeout-ms',
      'traceparent',
      'tracestate',
      'x-request-id',
    ]);
    assert.equal(reply.headers['access-control-max-age'], '600');
    assert.equal(reply.headers['access-control-allow-credentials'], undefined, 'cookies are never invited');
    assert.match(String(reply.headers.vary), /\bOrigin\b/);
    // The default port written out is the same origin.
    assert.equal((await preflight(port, 'https://app.example.com:443')).status, 204);
    assert.equal(runs, 0, 'a preflight runs nothing');
  } finally {
    await bridge.close();
  }
});

test('a preflight from another origin, for another method or with another header is refused 403 with a JSON-RPC body and no CORS grant', async () => {
  const { bridge, port } = await startBridge([Counted], { corsOrigins: [app] });
  try {
    const cases: [string | undefined, string, string | undefined, RegExp][] = [
      ['https://attacker.example', 'POST', undefined, /web origin "https:\/\/attacker.example" may not call/],
      ['https://app.example.com.attacker.example', 'POST', undefined, /may not call/],
      ['http://app.example.com', 'POST', undefined, /may not call/],
      ['null', 'POST', undefined, /may not call/],
      [undefined, 'POST', undefined, /may not call/],
      [app, 'DELETE', undefined, /only POST/],
      [app, 'POST', 'content-type, x-evil', /header "x-evil" is not allowed/],
      [app, 'POST', 'cookie', /header "cookie"/],
    ];
    for (const [origin, method, headers, message] of cases) {
      const reply = await preflight(port, origin, method, headers);
      assertRefusal(reply, 403, -32600, message);
      assert.equal(reply.headers['access-control-allow-origin'], undefined, String(origin));
    }
    // OPTIONS that is not a preflight stays 405, as before.
    const plain = await request(port, { method: 'OPTIONS' });
    assertRefusal(plain, 405, -32600, /use POST/);
  } finally {
    await bridge.close();
  }
});

test('replies to a CORS origin carry its Access-Control-Allow-Origin (refusals too); other origins and curl get none, all get Vary: Origin', async () => {
  const { bridge, port } = await startBridge([Counted], { token: 'tok', corsOrigins: [app] });
  try {
    runs = 0;
    const auth = { Authorization: 'Bearer tok' };
    const ok = await postJson(port, call, { headers: { ...auth, Origin: app, 'X-Request-Id': 'r-1' } });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).result, 'ran');
    assert.equal(ok.headers['access-control-allow-origin'], app);
    assert.equal(ok.headers.vary, 'Origin');
    assert.match(String(ok.headers['access-control-expose-headers']), /X-Request-Id/);
    assert.equal(ok.headers['x-request-id'], 'r-1');
    // A wrong token from the page: still readable by it, so it can say why.
    const denied = await postJson(port, call, { headers: { Origin: app, Authorization: 'Bearer nope' } });
    assertRefusal(denied, 401, -32600, /bearer token/);
    assert.equal(denied.headers['access-control-allow-origin'], app);
    const foreign = await postJson(port, call, { headers: { ...auth, Origin: 'https://attacker.example' } });
    assertRefusal(foreign, 403, -32600, /web origin/);
    assert.equal(foreign.headers['access-control-allow-origin'], undefined);
    assert.equal(foreign.headers.vary, 'Origin');
    const curl = await postJson(port, call, { headers: auth });
    assert.equal(curl.status, 200);
    assert.equal(curl.headers['access-control-allow-origin'], undefined);
    assert.equal(curl.headers.vary, 'Origin');
    assert.equal(runs, 2, 'only the two authorized calls ran');
  } finally {
    await bridge.close();
  }
});

test('without corsOrigins there are no CORS headers and every preflight is refused', async () => {
  const { bridge, port } = await startBridge([Counted], { allowedOrigins: [app] });
  try {
    assertRefusal(await preflight(port, app), 403, -32600, /may not call cross-site/);
    const reply = await postJson(port, call, { headers: { Origin: app } });
    assert.equal(reply.status, 200, 'an allowed origin still calls (same-site behind a proxy)');
    assert.equal(reply.headers['access-control-allow-origin'], undefined);
    assert.equal(reply.headers.vary, undefined);
  } finally {
    await bridge.close();
  }
});

test('corsOrigins refuses *, null and anything that is not an origin, naming the option', () => {
  const dispatch = async (): Promise<undefined> => undefined;
  const cases: [unknown, RegExp][] = [
    [['*'], /corsOrigins cannot be "\*": list each origin/],
    [['null'], /corsOrigins cannot be "null"/],
    [['app.example.com'], /corsOrigins entry "app.example.com" is not an origin/],
    [['https://app.example.com/path'], /corsOrigins entry/],
    [[42], /corsOrigins entry "42"/],
    ['https://app.example.com', /corsOrigins must be an array/],
  ];
  for (const [corsOrigins, pattern] of cases) {
    assert.throws(
      () => new HttpBridge({ dispatch, corsOrigins } as never),
      (err: unknown) => err instanceof UsageError && err.code === 'GAW_ERR_INVALID_OPTION' && pattern.test(err.message),
      JSON.stringify(corsOrigins),
    );
  }
});

test('GawServer passes http.corsOrigins to its bridge, and httpHandler() takes corsOrigins', async () => {
  const server = new GawServer({ port: 0, http: { port: 0, corsOrigins: [app] } }).add(Counted);
  await server.listen();
  try {
    const reply = await preflight(server.httpAddress!.port, app);
    assert.equal(reply.status, 204);
    assert.equal(reply.headers['access-control-allow-origin'], app);
  } finally {
    await server.close();
  }
  assert.throws(() => new GawServer().add(Counted).httpHandler({ corsOrigins: ['*'] }), /corsOrigins cannot be "\*"/);
});

test('gaw --http-cors-origin (repeated or comma-separated) answers preflights for those origins only', async () => {
  const gaw = await startGaw([
    `${examplesDir}services.js`,
    '--kwargs',
    '{"hello": "hi"}',
    '--port',
    '0',
    '--http-port',
    '0',
    '--http-cors-origin',
    'https://a.example,https://b.example',
    '--http-cors-origin',
    'http://localhost:3000',
  ]);
  try {
    for (const origin of ['https://a.example', 'https://b.example', 'http://localhost:3000']) {
      const reply = await preflight(gaw.httpPort!, origin);
      assert.deepEqual([reply.status, reply.headers['access-control-allow-origin']], [204, origin], origin);
    }
    assert.equal((await preflight(gaw.httpPort!, 'https://c.example')).status, 403);
    const plus = { jsonrpc: '2.0', id: 1, method: 'math_service.plus', params: [1, 2] };
    const reply = await postJson(gaw.httpPort!, plus, { headers: { Origin: 'http://localhost:3000' } });
    assert.deepEqual([reply.status, JSON.parse(reply.body).result], [200, 'hi: 3']);
    assert.equal(reply.headers['access-control-allow-origin'], 'http://localhost:3000');
  } finally {
    gaw.child.kill('SIGTERM');
    await gaw.exited;
  }
});
