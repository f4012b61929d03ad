// Hostile message bytes over an authenticated connection to a real GawServer: invalid JSON and
// msgpack, nesting a million deep, 10,000,000-element arrays within the frame cap, 1e400 and ids
// above 2^53 (documented: what comes back). After each: the reply is the right JSON-RPC error, no
// handler ran, the connection keeps serving, no stack or secret came back, memory stayed bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthedPeer } from './helpers/authed-peer.js';
import type { Reply } from './helpers/authed-peer.js';
import {
  assertMemoryBounded,
  assertNoLeak,
  attackExecutions,
  logText,
  memoryNow,
  startVictim,
} from './helpers/victim.js';
import type { Victim } from './helpers/victim.js';

const timeout = 60_000;

/** Asserts the reply is a JSON-RPC error with `code` and `id`, short, with no stack or secret. */
function assertError(reply: Reply, code: number, id: unknown, victim: Victim, what: string): void {
  const text = reply.bytes.toString('utf8');
  assert.equal(reply.value.jsonrpc, '2.0', what);
  assert.equal(reply.value.error?.code, code, `${what}: ${text.slice(0, 300)}`);
  assert.deepEqual(reply.value.id, id, `${what}: the id`);
  assert.ok(reply.bytes.length < 1_024, `${what}: a ${reply.bytes.length}-byte reply`);
  assertNoLeak(text, victim, what);
}

/** The connection still answers an honest request. */
async function assertStillServes(peer: AuthedPeer): Promise<void> {
  const reply = await peer.call({ jsonrpc: '2.0', id: 'alive', method: 'victim.legit', params: [1] });
  assert.deepEqual(reply.value, { jsonrpc: '2.0', id: 'alive', result: 2 });
}

/** msgpack bytes by hand: a fixstr. */
function mpStr(text: string): Buffer {
  const bytes = Buffer.from(text);
  assert.ok(bytes.length < 32);
  return Buffer.concat([Buffer.from([0xa0 | bytes.length]), bytes]);
}

/** A msgpack request map {jsonrpc, id, method, params} with `id` and `params` as raw msgpack bytes. */
function mpRequest(id: Buffer, method: string, params: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from([0x84]),
    mpStr('jsonrpc'),
    mpStr('2.0'),
    mpStr('id'),
    id,
    mpStr('method'),
    mpStr(method),
    mpStr('params'),
    params,
  ]);
}

test('bytes that are not JSON get -32700 with id null and a short message, and the connection keeps serving', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await AuthedPeer.open(victim);
    const attacks: [string, Buffer][] = [
      ['a truncated object', Buffer.from('{"jsonrpc":"2.0","id":1,"method":"victim.add"')],
      ['two values', Buffer.from('{"jsonrpc":"2.0","id":1,"method":"victim.add","params":[1,2]}{"id":2}')],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
      ['a lone surrogate escape in a key', Buffer.from('{"\\ud800":1,')],
      ['bare NaN', Buffer.from('NaN')],
      ['single quotes', Buffer.from("{'jsonrpc':'2.0'}")],
      ['1 MiB of garbage', Buffer.alloc(1024 * 1024, '{"a":[')],
      ['a NUL byte', Buffer.from([0])],
    ];
    for (const [what, bytes] of attacks) assertError(await peer.call(bytes), -32700, null, victim, what);
    await assertStillServes(peer);
    assert.equal(attackExecutions(), 0);
    // RFC 8259 lets a parser ignore a leading UTF-8 BOM, and gaw does.
    const bom = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('{"jsonrpc":"2.0","id":1,"method":"victim.add","params":[1,2]}'),
    ]);
    assert.deepEqual((await peer.call(bom)).value, { jsonrpc: '2.0', id: 1, result: 3 });
  } finally {
    await victim.close();
  }
});

test('bytes that are not msgpack get -32700 with id null, and the connection keeps serving', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await AuthedPeer.open(victim, { codec: 'msgpack' });
    const attacks: [string, Buffer][] = [
      ['the reserved byte 0xc1', Buffer.from([0xc1])],
      ['a map announcing 2^32 - 1 entries', Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff])],
      ['an array announcing 2^32 - 1 elements', Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff])],
      ['a bin32 announcing 4 GiB', Buffer.from([0xc6, 0xff, 0xff, 0xff, 0xff, 0x41])],
      ['a map with a non-string key', Buffer.from([0x81, 0x01, 0xc0])],
      ['a str32 announcing 4 GiB', Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x41])],
      [
        'a truncated request map',
        mpRequest(Buffer.from([0x01]), 'victim.add', Buffer.from([0x92, 0x01])).subarray(0, 30),
      ],
      ['an extension type', Buffer.from([0xd4, 0x01, 0x00])],
    ];
    for (const [what, bytes] of attacks) assertError(await peer.call(bytes), -32700, null, victim, what);
    await assertStillServes(peer);
    assert.equal(attackExecutions(), 0);
    peer.destroy();
  } finally {
    await victim.close();
  }
});

test('JSON nested a million deep (arrays, objects, unclosed, inside params) gets -32700 at once, without a stack overflow or a large allocation', {
  timeout,
}, async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await AuthedPeer.open(victim);
    const million = 1_000_000;
    const attacks: [string, string][] = [
      ['arrays', '['.repeat(million) + ']'.repeat(million)],
      ['objects', `${'{"a":'.repeat(million)}1${'}'.repeat(million)}`],
      ['unclosed arrays', '['.repeat(million)],
      [
        'inside params',
        `{"jsonrpc":"2.0","id":1,"method":"victim.echo","params":[${'['.repeat(million)}${']'.repeat(million)}]}`,
      ],
      [
        '65 levels in a short message',
        `{"jsonrpc":"2.0","id":1,"method":"victim.echo","params":${'['.repeat(65)}${']'.repeat(65)}}`,
      ],
    ];
    const before = memoryNow();
    for (const [what, text] of attacks) {
      const startMs = Date.now();
      const reply = await peer.call(text);
      assertError(reply, -32700, null, victim, what);
      assert.match(reply.value.error.message, /deeper than the limit/);
      assert.ok(Date.now() - startMs < 2_000, `${what} took ${Date.now() - startMs} ms`);
    }
    assertMemoryBounded(before, 128 * 1024 * 1024, 'million-deep nesting');
    await assertStillServes(peer);
    assert.equal(attackExecutions(), 0);
    peer.destroy();
  } finally {
    await victim.close();
  }
});

test('msgpack nested a million deep gets -32700 at once', { timeout }, async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await AuthedPeer.open(victim, { codec: 'msgpack' });
    const deepArrays = Buffer.concat([Buffer.alloc(1_000_000, 0x91), Buffer.from([0xc0])]);
    const deepMaps = Buffer.alloc(3 * 1_000_000 + 1, 0xc0); // {"a": {"a": ... nil}}
    for (let i = 0; i < 1_000_000; i++) deepMaps.set([0x81, 0xa1, 0x61], 3 * i);
    for (const [what, bytes] of [
      ['arrays', deepArrays],
      ['maps', deepMaps],
    ] as const) {
      const startMs = Date.now();
      assertError(await peer.call(bytes), -32700, null, victim, what);
      assert.ok(Date.now() - startMs < 2_000, `${what} took ${Date.now() - startMs} ms`);
    }
    await assertStillServes(peer);
    assert.equal(attackExecutions(), 0);
    peer.destroy();
  } finally {
    await victim.close();
  }
});

test('10,000,000-element arrays within the frame cap (JSON and msgpack) are refused: -32602 as params, -32600 as a batch, nothing run, memory bounded', {
  timeout,
}, async () => {
  const victim = await startVictim({ encrypt: true, maxPayloadBytes: 32 * 1024 * 1024 });
  try {
    const ten = 10_000_000;
    const zeros = `${'0,'.repeat(ten - 1)}0`;
    const before = memoryNow();
    const json = await AuthedPeer.open(victim);
    assertError(
      await json.call(`{"jsonrpc":"2.0","id":1,"method":"victim.add","params":[${zeros}]}`, 20_000),
      -32602,
      1,
      victim,
      'JSON params',
    );
    assertError(await json.call(`[${zeros}]`, 20_000), -32600, null, victim, 'a JSON batch of 10,000,000 zeros');
    await assertStillServes(json);
    json.destroy();

    const msgpack = await AuthedPeer.open(victim, { codec: 'msgpack' });
    const count = Buffer.alloc(4);
    count.writeUInt32BE(ten);
    const array = Buffer.concat([Buffer.from([0xdd]), count, Buffer.alloc(ten, 0x00)]);
    assertError(
      await msgpack.call(mpRequest(Buffer.from([0x01]), 'victim.add', array), 20_000),
      -32602,
      1,
      victim,
      'msgpack params',
    );
    assertError(await msgpack.call(array, 20_000), -32600, null, victim, 'a msgpack batch of 10,000,000 zeros');
    await assertStillServes(msgpack);
    msgpack.destroy();
    assertMemoryBounded(before, 768 * 1024 * 1024, 'three 10,000,000-element arrays');
    assert.equal(attackExecutions(), 0);
    assertNoLeak(logText(victim.logs), victim, 'the server log');
  } finally {
    await victim.close();
  }
});

test('a rest-parameter method given 200,000 or 10,000,000 positional params is refused with -32602 Invalid params, not a server error (defect D1)', {
  timeout,
}, async () => {
  const victim = await startVictim({ encrypt: true, maxPayloadBytes: 32 * 1024 * 1024 });
  try {
    const peer = await AuthedPeer.open(victim);
    for (const count of [200_000, 10_000_000]) {
      const reply = await peer.call(
        `{"jsonrpc":"2.0","id":1,"method":"victim.spread","params":[${'0,'.repeat(count - 1)}0]}`,
        20_000,
      );
      assertError(reply, -32602, 1, victim, `${count} params`);
    }
    assert.equal(attackExecutions(), 0, 'the handler never ran');
    await assertStillServes(peer);
    peer.destroy();
  } finally {
    await victim.close();
  }
});

test('1e400 parses to Infinity: as a param the handler gets Infinity and the reply carries {"_t":"number","_v":"Infinity"}; as an id the request is invalid (-32600, id null)', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await AuthedPeer.open(victim);
    const echoed = await peer.call('{"jsonrpc":"2.0","id":1,"method":"victim.echo","params":[1e400]}');
    assert.deepEqual(echoed.value, { jsonrpc: '2.0', id: 1, result: { _t: 'number', _v: 'Infinity' } });
    const sum = await peer.call('{"jsonrpc":"2.0","id":2,"method":"victim.add","params":[-1e400, 5]}');
    assert.deepEqual(sum.value, { jsonrpc: '2.0', id: 2, result: { _t: 'number', _v: '-Infinity' } });
    const nan = await peer.call('{"jsonrpc":"2.0","id":3,"method":"victim.add","params":[1e400, -1e400]}');
    assert.deepEqual(nan.value, { jsonrpc: '2.0', id: 3, result: { _t: 'number', _v: 'NaN' } });
    assert.equal(attackExecutions(), 3);
    assertError(
      await peer.call('{"jsonrpc":"2.0","id":1e400,"method":"victim.echo","params":[1]}'),
      -32600,
      null,
      victim,
      'id 1e400',
    );
    assert.equal(attackExecutions(), 3, 'the request with id 1e400 did not run');
    await assertStillServes(peer);
    peer.destroy();
  } finally {
    await victim.close();
  }
});

test('ids above 2^53 lose precision: JSON id 9007199254740993 is answered with id 9007199254740992, and a msgpack uint64 id with the nearest double', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const json = await AuthedPeer.open(victim);
    const above = await json.call('{"jsonrpc":"2.0","id":9007199254740993,"method":"victim.legit","params":[1]}');
    assert.match(above.bytes.toString(), /"id":9007199254740992,/);
    const huge = await json.call(
      '{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"victim.legit","params":[1]}',
    );
    assert.match(huge.bytes.toString(), /"id":1\.2345678901234568e\+29,/);
    const fraction = await json.call('{"jsonrpc":"2.0","id":1.5,"method":"victim.legit","params":[1]}');
    assert.equal(fraction.value.id, 1.5, 'a fractional id is echoed as it is');
    json.destroy();

    const msgpack = await AuthedPeer.open(victim, { codec: 'msgpack' });
    const id = Buffer.from([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const reply = await msgpack.call(mpRequest(id, 'victim.legit', Buffer.from([0x91, 0x01])));
    assert.equal(reply.value.id, 2 ** 64, 'uint64 max comes back as 2^64, the nearest double');
    assert.equal(reply.value.result, 2);
    msgpack.destroy();
  } finally {
    await victim.close();
  }
});

test('a bigint param of 10,000 digits (signed or not) reaches the handler; one of 10,001 digits is refused with -32602 and nothing runs', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await AuthedPeer.open(victim);
    // Sent as JSON text: the peer's own codec would escape a plain object that looks tagged.
    const echo = (id: number, digits: string) =>
      `{"jsonrpc":"2.0","id":${id},"method":"victim.echo","params":[{"_t":"bigint","_v":"${digits}"}]}`;
    for (const sign of ['', '-']) {
      const atLimit = `${sign}${'7'.repeat(10_000)}`;
      const ok = await peer.call(echo(1, atLimit));
      assert.deepEqual(ok.value, { jsonrpc: '2.0', id: 1, result: { _t: 'bigint', _v: atLimit } }, 'at the limit');
      const before = attackExecutions();
      const over = await peer.call(echo(2, `${sign}${'7'.repeat(10_001)}`));
      assertError(over, -32602, 2, victim, 'one digit over the limit');
      assert.match(over.value.error.message, /at most 10000 digits/);
      assert.equal(attackExecutions(), before, 'the handler did not run');
    }
    await assertStillServes(peer);
  } finally {
    await victim.close();
  }
});
