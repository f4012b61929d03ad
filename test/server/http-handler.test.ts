// server.httpHandler() mounted in node:http, Express (plain, and behind express.json()) and
// Fastify, over real sockets: the bridge's contract and its hostile cases (wrong types, missing
// token, huge, chunked and slow bodies, rebinding, foreign origins, overload) give the same answers
// as HttpBridge, a body parsed by another middleware is used under the same cap, and Express's
// error middleware never sees anything from gaw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { UsageError } from '../../src/errors.js';
import { GawServer, createHttpHandler } from '../../src/server/index.js';
import type { HttpHandlerMountOptions } from '../../src/server/index.js';
import { entrypoint } from '../../src/server/service.js';
import { Arrivals, Gate, makeSecret, within } from '../helpers/server-fixtures.js';
import { assertRefusal, postJson, request } from './http-helpers.js';
import type { HttpReply } from './http-helpers.js';
import { mount, mountNames } from './http-mounts.js';
import type { MountName, Mounted } from './http-mounts.js';

let gate = new Gate();
let arrivals = new Arrivals(0);
let runs = 0;
class Api {
  static serviceName = 'api';
  @entrypoint plus(a: number, b: number) {
    runs++;
    return a + b;
  }
  @entrypoint fails() {
    runs++;
    throw new Error('a detail from deep inside');
  }
  @entrypoint async wait() {
    runs++;
    arrivals.arrive();
    await gate.promise;
    return 'done';
  }
}

const plus = { jsonrpc: '2.0', id: 1, method: 'api.plus', params: [2, 3] };

/** Runs `body` against the handler (with `options`) mounted each way in `names`; checks the aftermath. */
async function eachMount(
  names: readonly MountName[],
  options: HttpHandlerMountOptions,
  body: (mounted: Mounted) => Promise<void>,
): Promise<void> {
  const server = new GawServer({ port: 0 }).add(Api);
  for (const name of names) {
    const mounted = await mount(name, server.httpHandler(options));
    try {
      await body(mounted);
      assert.deepEqual(mounted.errorsSeen, [], `${name}: Express's error middleware saw nothing`);
    } catch (err) {
      if (err instanceof Error) err.message = `${name}: ${err.message}`;
      throw err;
    } finally {
      await mounted.close();
    }
  }
}

function assertNoStack(reply: HttpReply): void {
  assert.doesNotMatch(reply.body, /\n\s+at |\.js:\d+|stack/);
}

const rawMounts = mountNames.filter((name) => name !== 'express+json');

test('mounted anywhere, calls, notifications, batches and a thrown error get the bridge replies, with no stack', async () => {
  await eachMount(mountNames, {}, async ({ port }) => {
    const reply = await postJson(port, plus);
    assert.deepEqual([reply.status, reply.body], [200, '{"jsonrpc":"2.0","id":1,"result":5}']);
    assert.equal(reply.headers['content-type'], 'application/json');
    assert.equal((await postJson(port, { jsonrpc: '2.0', method: 'api.plus', params: [1, 1] })).status, 204);
    const batch = await postJson(port, [plus, { ...plus, id: 2, params: [1, 1] }]);
    assert.deepEqual(
      JSON.parse(batch.body).map((r: { result: number }) => r.result),
      [5, 2],
    );
    const failed = await postJson(port, { jsonrpc: '2.0', id: 3, method: 'api.fails' });
    assert.equal(JSON.parse(failed.body).error.code, -32000);
    assertNoStack(failed);
    assertRefusal(await request(port, { method: 'GET' }), 405, -32600, /use POST/);
  });
});

test('mounted without a body parser, a body that is not JSON gets 200 with -32700', async () => {
  await eachMount(rawMounts, {}, async ({ port }) => {
    const reply = await postJson(port, '{"jsonrpc":');
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(reply.body).error.code, -32700);
  });
});

test('mounted anywhere, content types: JSON-RPC types pass, others get 415, no type is taken only with a token', async () => {
  const body = JSON.stringify(plus);
  await eachMount(mountNames, {}, async ({ name, port }) => {
    for (const type of ['application/json-rpc', 'application/jsonrequest; charset=utf-8']) {
      assert.equal((await request(port, { headers: { 'Content-Type': type }, body })).status, 200, type);
    }
    const refused = ['text/plain', 'application/x-www-form-urlencoded'];
    // express.json() refuses an unknown charset itself, through next(err), before gaw sees it.
    if (name !== 'express+json') refused.push('application/json; charset=latin1');
    for (const type of refused) {
      assertRefusal(await request(port, { headers: { 'Content-Type': type }, body }), 415, -32600, /Content-Type/);
    }
    assertRefusal(await request(port, { body }), 415, -32600, /Content-Type/);
  });
  await eachMount(mountNames, { token: 'tok' }, async ({ port }) => {
    const reply = await request(port, { headers: { Authorization: 'Bearer tok' }, body });
    assert.equal(reply.status, 200, 'no type with the token');
  });
});

test('mounted anywhere, a missing or wrong token gets 401 and nothing runs', async () => {
  await eachMount(mountNames, { token: 'right-token' }, async ({ port }) => {
    runs = 0;
    for (const authorization of [undefined, 'Bearer wrong', 'Basic right-token', 'right-token']) {
      const headers: Record<string, string> = authorization === undefined ? {} : { Authorization: authorization };
      const reply = await postJson(port, plus, { headers });
      assertRefusal(reply, 401, -32600, /bearer token/);
      assert.equal(reply.headers['www-authenticate'], 'Bearer');
      assert.ok(!reply.body.includes('right-token'));
    }
    assert.equal(runs, 0);
    assert.equal((await postJson(port, plus, { headers: { Authorization: 'Bearer right-token' } })).status, 200);
  });
});

test('mounted anywhere, a rebound Host gets 421 and a foreign Origin 403, and nothing runs', async () => {
  await eachMount(mountNames, { allowedHosts: ['app.example'] }, async ({ port }) => {
    runs = 0;
    assertRefusal(await postJson(port, plus, { headers: { Host: 'attacker.example' } }), 421, -32600, /Host/);
    const origin = { Host: `127.0.0.1:${port}`, Origin: 'http://attacker.example' };
    assertRefusal(await postJson(port, plus, { headers: origin }), 403, -32600, /origin/);
    assert.equal(runs, 0);
    assert.equal((await postJson(port, plus, { headers: { Host: 'app.example' } })).status, 200);
    const same = { Host: `localhost:${port}`, Origin: `http://localhost:${port}` };
    assert.equal((await postJson(port, plus, { headers: same })).status, 200);
  });
});

test('mounted anywhere, past maxInFlight a request gets 503 with -32002 and does not run', async () => {
  await eachMount(mountNames, { maxInFlight: 2 }, async ({ port }) => {
    gate = new Gate();
    arrivals = new Arrivals(2);
    runs = 0;
    const waiting = [1, 2].map((id) => postJson(port, { jsonrpc: '2.0', id, method: 'api.wait' }));
    await within(arrivals.all, 5_000, 'two handlers waiting');
    assertRefusal(await postJson(port, plus), 503, -32002, /2 requests are already in progress/);
    assert.equal(runs, 2);
    gate.open();
    for (const reply of await Promise.all(waiting)) assert.equal(JSON.parse(reply.body).result, 'done');
  });
});

/** Sends `head` (and then `body` chunks until the server closes); resolves with what came back and what was sent. */
function rawPost(
  port: number,
  head: string,
  chunks: Iterable<string>,
  waitForReply: boolean,
): Promise<{ response: string; sent: number }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let response = '';
    let sent = 0;
    socket.on('error', () => {});
    socket.on('data', (data) => {
      response += data.toString('latin1');
    });
    socket.on('close', () => resolve({ response, sent }));
    socket.write(head);
    if (waitForReply) return;
    const iterator = chunks[Symbol.iterator]();
    const pump = (): void => {
      for (let next = iterator.next(); !next.done && !socket.destroyed; next = iterator.next()) {
        sent += next.value.length;
        if (!socket.write(next.value)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

const head = (length: string) =>
  `POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${length}\r\n\r\n`;

function rawBody(response: string): { id: unknown; error: { code: number; message: string } } {
  return JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));
}

test('mounted without a body parser, a declared body over the cap gets 413 before any of it is read', async () => {
  await eachMount(rawMounts, { maxBodyBytes: 1024 }, async ({ port }) => {
    const { response } = await within(rawPost(port, head('Content-Length: 10485760'), [], true), 5_000, 'the 413');
    assert.match(response, /^HTTP\/1\.1 413 /);
    assert.match(response, /\r\nconnection: close\r\n/i);
    assert.equal(rawBody(response).error.code, -32600);
  });
});

test('mounted without a body parser, a chunked body is cut soon after the cap', async () => {
  const chunk = `${(16 * 1024).toString(16)}\r\n${' '.repeat(16 * 1024)}\r\n`;
  function* endless() {
    for (let i = 0; i < 4096; i++) yield chunk;
  }
  await eachMount(rawMounts, { maxBodyBytes: 64 * 1024 }, async ({ port }) => {
    const { response, sent } = await within(
      rawPost(port, head('Transfer-Encoding: chunked'), endless(), false),
      20_000,
      'the chunked upload being cut',
    );
    assert.ok(sent < 32 * 1024 * 1024, `the upload was cut after ${sent} bytes`);
    if (response !== '') assert.match(response, /^HTTP\/1\.1 413 /);
  });
});

test('mounted without a body parser, a body that stops arriving gets 408 with a JSON-RPC body', async () => {
  await eachMount(rawMounts, { bodyTimeoutMs: 200 }, async ({ port }) => {
    const startMs = Date.now();
    const { response } = await within(
      rawPost(port, `${head('Content-Length: 100')}{"jsonrpc"`, [], true),
      5_000,
      'the 408',
    );
    assert.match(response, /^HTTP\/1\.1 408 /);
    assert.match(rawBody(response).error.message, /did not arrive within 200 ms/);
    assert.ok(Date.now() - startMs < 3_000);
  });
});

test('behind express.json(), the parsed req.body is used, and one larger than the cap is refused with 413', async () => {
  await eachMount(['express+json'], { maxBodyBytes: 200 }, async ({ port }) => {
    assert.equal(JSON.parse((await postJson(port, plus)).body).result, 5);
    runs = 0;
    const big = { ...plus, params: [1, 2], padding: 'x'.repeat(500) };
    assertRefusal(await postJson(port, big), 413, -32600, /larger than 200 bytes/);
    const chunked = await request(port, {
      headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      body: JSON.stringify(big),
    });
    assertRefusal(chunked, 413, -32600, /larger than 200 bytes/);
    assert.equal(runs, 0);
  });
});

test('createHttpHandler() serves a standalone dispatch function; httpHandler() needs a token when the server has a secret', async () => {
  const handler = createHttpHandler({
    dispatch: (message) => ({ jsonrpc: '2.0', id: (message as { id: number }).id, result: 'forwarded' }),
    isRaw: true,
  });
  const mounted = await mount('node:http', handler);
  try {
    assert.equal((await postJson(mounted.port, plus)).body, '{"jsonrpc":"2.0","id":1,"result":"forwarded"}');
  } finally {
    await mounted.close();
  }
  const secured = new GawServer({ port: 0, secret: makeSecret() }).add(Api);
  assert.throws(
    () => secured.httpHandler(),
    (err: unknown) => err instanceof UsageError && /needs a token/.test(err.message),
  );
  assert.equal(typeof secured.httpHandler({ token: 't' }), 'function');
  assert.equal(typeof secured.httpHandler({ isOpen: true }), 'function');
});
