// Attacks on the HTTP bridge of a real GawServer with a secret and a bearer token, over raw TCP so
// every byte is the attacker's choice: wrong content types, bodies over the cap (413 without reading
// them), slow headers and bodies, missing or wrong tokens, invalid JSON, oversized batches. After
// each: the right status, no handler ran, no token, secret or stack came back, and both the bridge
// and the GAWP port keep serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { within } from '../helpers/server-fixtures.js';
import {
  assertMemoryBounded,
  assertNoLeak,
  assertUnharmed,
  checkServes,
  executions,
  memoryNow,
  startVictim,
} from './helpers/victim.js';
import type { Victim } from './helpers/victim.js';

interface RawHttp {
  socket: Socket;
  /** Everything received, once the server has closed the connection. */
  closed: Promise<string>;
  write(bytes: string | Buffer): void;
}

function openHttp(port: number): Promise<RawHttp> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    const closed = new Promise<string>((done) =>
      socket.once('close', () => done(Buffer.concat(chunks).toString('latin1'))),
    );
    socket.once('connect', () =>
      resolve({ socket, closed, write: (bytes) => void (socket.writable && socket.write(bytes)) }),
    );
    socket.once('error', reject);
  });
}

/** The status code of a raw HTTP response. */
function statusOf(response: string): number {
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(response);
  assert.ok(match, `not an HTTP response: ${JSON.stringify(response.slice(0, 80))}`);
  return Number(match[1]);
}

function bodyOf(response: string): string {
  return response.slice(response.indexOf('\r\n\r\n') + 4);
}

/**
 * One POST /api with `Connection: close`, over raw TCP; resolves with the whole response. A string
 * body is sent as UTF-8; a Buffer as it is (so invalid UTF-8 can be sent).
 */
async function send(port: number, headers: Record<string, string>, body: string | Buffer = ''): Promise<string> {
  const http = await openHttp(port);
  const lines = [
    'POST /api HTTP/1.1',
    'Host: 127.0.0.1',
    'Connection: close',
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  http.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), Buffer.from(body)]));
  return within(http.closed, 10_000, 'the answer to POST /api');
}

const rpc = (method: string, params: unknown[], id: unknown = 1) =>
  JSON.stringify({ jsonrpc: '2.0', id, method, params });

async function startBridgeVictim(
  http: Record<string, unknown> = {},
): Promise<{ victim: Victim; port: number; token: string; auth: Record<string, string> }> {
  const token = `hostile-${randomBytes(16).toString('hex')}`;
  const victim = await startVictim({ encrypt: true, http: { port: 0, token, ...http } });
  return {
    victim,
    port: victim.server.httpAddress!.port,
    token,
    auth: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
  };
}

/** The bridge answers an honest call. */
async function checkBridgeServes(port: number, auth: Record<string, string>): Promise<void> {
  const response = await send(port, auth, rpc('victim.legit', [1], 'ok'));
  assert.equal(statusOf(response), 200);
  assert.deepEqual(JSON.parse(bodyOf(response)), { jsonrpc: '2.0', id: 'ok', result: 2 });
}

/** After an attack: nothing ran, the log holds no secret or stack, and both the bridge and the GAWP port serve. */
async function assertBothUnharmed(victim: Victim, port: number, auth: Record<string, string>): Promise<void> {
  await checkBridgeServes(port, auth);
  await assertUnharmed(victim);
}

function assertClean(response: string, victim: Victim, token: string, what: string): void {
  assert.ok(!response.includes(token), `${what}: the token came back`);
  assertNoLeak(response, victim, what);
}

test('missing, wrong or malformed bearer tokens get 401 with nothing run and nothing echoed', async () => {
  const { victim, port, token, auth } = await startBridgeVictim();
  try {
    const json = { 'Content-Type': 'application/json' };
    const attacks: [string, Record<string, string>][] = [
      ['no Authorization', json],
      ['a wrong token', { ...json, Authorization: 'Bearer wrong' }],
      [
        'the token with one character changed',
        { ...json, Authorization: `Bearer ${token.slice(0, -1)}${token.endsWith('a') ? 'b' : 'a'}` },
      ],
      ['the token as a prefix', { ...json, Authorization: `Bearer ${token}x` }],
      ['a token prefix', { ...json, Authorization: `Bearer ${token.slice(0, 10)}` }],
      ['Basic with the token', { ...json, Authorization: `Basic ${Buffer.from(`user:${token}`).toString('base64')}` }],
      ['the token without a scheme', { ...json, Authorization: token }],
      ['two tokens', { ...json, Authorization: `Bearer ${token} ${token}` }],
      ['an 8 KiB header', { ...json, Authorization: `Bearer ${'a'.repeat(8 * 1024)}` }],
      ['the secret as the token', { ...json, Authorization: `Bearer ${victim.secret}` }],
    ];
    for (const [what, headers] of attacks) {
      const response = await send(port, headers, rpc('victim.add', [1, 2]));
      assert.equal(statusOf(response), 401, what);
      assert.match(response, /WWW-Authenticate: Bearer/i, what);
      assertClean(response, victim, token, what);
    }
    await assertBothUnharmed(victim, port, auth);
  } finally {
    await victim.close();
  }
});

test('wrong content types get 415 and the body is never run', async () => {
  const { victim, port, token, auth } = await startBridgeVictim();
  try {
    const types = [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=latin1',
      'application/jsonp',
      'application/json-patch+json',
      'text/json',
      'application/json-rpc; charset=latin1',
      'application/jsonrequest; charset=utf-16',
    ];
    for (const type of types) {
      const headers: Record<string, string> = { Authorization: `Bearer ${token}`, 'Content-Type': type };
      const response = await send(port, headers, rpc('victim.add', [1, 2]));
      assert.equal(statusOf(response), 415, `Content-Type ${JSON.stringify(type)}`);
      const refusal = JSON.parse(bodyOf(response)) as { id: unknown; error: { code: number; data: unknown } };
      assert.deepEqual([refusal.id, refusal.error.code, refusal.error.data], [null, -32600, { httpStatus: 415 }]);
      assertClean(response, victim, token, type);
    }
    await assertBothUnharmed(victim, port, auth);
  } finally {
    await victim.close();
  }
});

test('a body announced over the cap gets 413 before any of it is sent, and the connection is closed', async () => {
  const { victim, port, token, auth } = await startBridgeVictim({ maxBodyBytes: 64 * 1024 });
  try {
    // A length Node's parser cannot hold is refused by Node itself with 400.
    for (const [length, status] of [
      ['1073741824', 413],
      ['65537', 413],
      ['99999999999999999999', 400],
    ] as const) {
      const http = await openHttp(port);
      http.write(
        `POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`,
      );
      const response = await within(http.closed, 3_000, `the answer to Content-Length ${length}`);
      assert.equal(statusOf(response), status, `Content-Length ${length}`);
      assertClean(response, victim, token, 'an oversized body');
    }
    await assertBothUnharmed(victim, port, auth);
  } finally {
    await victim.close();
  }
});

test('request smuggling shapes (Content-Length with Transfer-Encoding, two lengths, an obsolete line fold) are refused with 400 and nothing runs', async () => {
  const { victim, port, token, auth } = await startBridgeVictim();
  try {
    const body = rpc('victim.add', [1, 2]);
    const head = `POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n`;
    const attacks = [
      `${head}Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      `${head}Content-Length: ${body.length}\r\nContent-Length: 5\r\n\r\n${body}`,
      `${head}Content-Length: ${body.length}\r\nX-Folded: a\r\n b\r\n\r\n${body}`,
    ];
    for (const attack of attacks) {
      const http = await openHttp(port);
      http.write(attack);
      const response = await within(http.closed, 3_000, 'the refusal');
      assert.equal(statusOf(response), 400, JSON.stringify(attack.slice(head.length, head.length + 60)));
    }
    await assertBothUnharmed(victim, port, auth);
  } finally {
    await victim.close();
  }
});

test('a chunked body that grows past the cap is cut soon after the cap, with memory bounded, and nothing runs', async (t) => {
  const { victim, port, token, auth } = await startBridgeVictim({ maxBodyBytes: 64 * 1024 });
  try {
    const before = memoryNow();
    const http = await openHttp(port);
    let resetCode = '';
    http.socket.on('error', (err: NodeJS.ErrnoException) => {
      resetCode = err.code ?? String(err);
    });
    http.write(
      `POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    const chunk = `${(16 * 1024).toString(16)}\r\n${'['.repeat(16 * 1024)}\r\n`;
    let sentBytes = 0;
    // Up to 64 MiB offered, 16 KiB per write, each write waiting for the kernel to take it.
    while (!http.socket.destroyed && sentBytes < 64 * 1024 * 1024) {
      await new Promise<void>((resolve) => http.socket.write(chunk, () => resolve()));
      sentBytes += 16 * 1024;
    }
    const response = await within(http.closed, 5_000, 'the server cutting a chunked body');
    // The 413 is written, but the server closes with our upload unread, so the kernel may reset the
    // connection and drop the 413 before we read it: either is a refusal.
    assert.ok(
      response === '' ? resetCode !== '' : statusOf(response) === 413,
      `got ${JSON.stringify(response.slice(0, 40))}`,
    );
    t.diagnostic(
      `upload cut after ${sentBytes} bytes offered; ${response === '' ? `reset (${resetCode}) before the 413 was read` : '413 read'}`,
    );
    assert.ok(sentBytes < 16 * 1024 * 1024, `the server cut the upload (${sentBytes} bytes offered)`);
    assertMemoryBounded(before, 64 * 1024 * 1024, 'a chunked upload past the cap');
    await assertBothUnharmed(victim, port, auth);
  } finally {
    await victim.close();
  }
});

test('slow headers and slow bodies are cut at bodyTimeoutMs (408 or a close), and nothing runs', async () => {
  const { victim, port, token, auth } = await startBridgeVictim({ bodyTimeoutMs: 300 });
  try {
    // A body that stops halfway.
    const stalled = await openHttp(port);
    stalled.write(
      `POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"jsonrpc":`,
    );
    const stalledMs = Date.now();
    const stalledResponse = await within(stalled.closed, 3_000, 'the stalled body being cut');
    assert.ok(
      stalledResponse === '' || statusOf(stalledResponse) === 408,
      `a stalled body got ${JSON.stringify(stalledResponse.slice(0, 40))}`,
    );
    assert.ok(Date.now() - stalledMs < 2_000, `a stalled body was cut after ${Date.now() - stalledMs} ms`);
    // Headers, then a body, one byte per 100 ms.
    for (const part of ['headers', 'body'] as const) {
      const body = rpc('victim.add', [1, 2]);
      const head = `POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      const slow = await openHttp(port);
      const slowBytes = part === 'headers' ? head + body : body;
      if (part === 'body') slow.write(head);
      let isClosed = false;
      void slow.closed.then(() => {
        isClosed = true;
      });
      // Sent whole at this pace, the request would take six seconds or more: a cut within two is the deadline's.
      const startMs = Date.now();
      for (let i = 0; i < slowBytes.length && !isClosed; i++) {
        slow.write(slowBytes[i]!);
        await Promise.race([delay(100), slow.closed]);
      }
      const response = await within(slow.closed, 3_000, `slow ${part} being cut`);
      assert.ok(
        response === '' || statusOf(response) === 408,
        `slow ${part} got ${JSON.stringify(response.slice(0, 40))}`,
      );
      assert.ok(Date.now() - startMs < 2_000, `slow ${part} cut after ${Date.now() - startMs} ms`);
    }
    await assertBothUnharmed(victim, port, auth);
  } finally {
    await victim.close();
  }
});

test('invalid JSON, too-deep JSON and batches over the limit get 200 with the JSON-RPC error, and nothing runs', async () => {
  const { victim, port, token, auth } = await startBridgeVictim({ maxBodyBytes: 8 * 1024 * 1024 });
  try {
    const cases: [string, string, number][] = [
      ['truncated JSON', '{"jsonrpc":"2.0","id":1,"method":"victim.add"', -32700],
      ['invalid UTF-8 as latin1 text', '{"a":"\xff\xfe"}', -32700],
      ['nested 100,000 deep', '['.repeat(100_000) + ']'.repeat(100_000), -32700],
      [
        'a batch of 100,000 notifications',
        JSON.stringify(
          Array.from({ length: 100_000 }, () => ({ jsonrpc: '2.0', method: 'victim.add', params: [1, 2] })),
        ),
        -32600,
      ],
      [
        'a batch of 101 requests',
        JSON.stringify(
          Array.from({ length: 101 }, (_, id) => ({ jsonrpc: '2.0', id, method: 'victim.add', params: [1, 2] })),
        ),
        -32600,
      ],
      ['an empty batch', '[]', -32600],
    ];
    for (const [what, body, code] of cases) {
      const response = await send(port, auth, Buffer.from(body, 'latin1'));
      assert.equal(statusOf(response), 200, what);
      const reply = JSON.parse(bodyOf(response)) as { id: unknown; error: { code: number; message: string } };
      assert.equal(reply.error.code, code, what);
      assert.equal(reply.id, null, what);
      assert.ok(bodyOf(response).length < 1_024, `${what}: a short reply`);
      assertClean(response, victim, token, what);
    }
    await assertBothUnharmed(victim, port, auth);
  } finally {
    await victim.close();
  }
});

test('a thrown handler error or an unencodable result over HTTP carries no stack and no secret, and the bridge keeps serving', async () => {
  const { victim, port, token, auth } = await startBridgeVictim();
  try {
    const thrown = await send(port, auth, rpc('victim.throws', ['object']));
    assert.equal(statusOf(thrown), 200);
    assert.equal(JSON.parse(bodyOf(thrown)).error.code, -32000);
    assertClean(thrown, victim, token, 'a thrown error');
    const unencodable = await send(port, auth, rpc('victim.unencodable', ['getter']));
    assert.equal(JSON.parse(bodyOf(unencodable)).error.code, -32603);
    assertClean(unencodable, victim, token, 'an unencodable result');
    assert.equal(executions.get('throws'), 1);
    assert.equal(executions.get('unencodable'), 1);
    await checkBridgeServes(port, auth);
    await checkServes(victim);
  } finally {
    await victim.close();
  }
});
