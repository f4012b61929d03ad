// Hostile names and shapes over an authenticated connection to a real GawServer: `__proto__` and
// `constructor.prototype` in params, class tags that were never registered, method names that
// exist on every object's prototype, empty, 1 MiB long or carrying forged log lines, and batches
// (100,000 long, nested, empty). After each: the right JSON-RPC error, nothing ran, Object.prototype
// is untouched, replies and log lines are bounded and on one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthedPeer } from './helpers/authed-peer.js';
import type { Reply } from './helpers/authed-peer.js';
import { assertNoLeak, attackExecutions, executions, logText, startVictim } from './helpers/victim.js';
import type { Victim } from './helpers/victim.js';

const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

function assertPrototypeUntouched(): void {
  assert.deepEqual(
    Object.getOwnPropertyNames(Object.prototype).sort(),
    prototypeKeys,
    'Object.prototype has the same keys',
  );
  const probe: Record<string, unknown> = {};
  assert.equal(probe.polluted, undefined, 'no polluted property is inherited');
  assert.equal(Object.getPrototypeOf(probe), Object.prototype);
  assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
}

function assertError(reply: Reply, code: number, victim: Victim, what: string): void {
  const text = reply.bytes.toString('utf8');
  assert.equal(reply.value.error?.code, code, `${what}: ${text.slice(0, 300)}`);
  assert.ok(reply.bytes.length < 1_024, `${what}: a ${reply.bytes.length}-byte reply`);
  assert.ok(!/[\n\r\u2028\u2029]/.test(reply.value.error.message), `${what}: the message is one line`);
  assertNoLeak(text, victim, what);
}

function request(method: unknown, params?: unknown, id: unknown = 1): string {
  return JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
}

test('__proto__ and constructor.prototype in params reach handlers only as plain data or are refused, and Object.prototype is untouched', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const json = await AuthedPeer.open(victim);
    const proto = '{"__proto__":{"polluted":true,"isAdmin":true},"a":1}';
    // Positional: an own key named __proto__, echoed back as data.
    const echoed = await json.call(`{"jsonrpc":"2.0","id":1,"method":"victim.echo","params":[${proto}]}`);
    assert.equal(
      echoed.bytes.toString(),
      '{"jsonrpc":"2.0","id":1,"result":{"__proto__":{"polluted":true,"isAdmin":true},"a":1}}',
    );
    // Nested deep in the value and under a built-in tag.
    const nested = await json.call(`{"jsonrpc":"2.0","id":2,"method":"victim.echo","params":[{"x":[{"y":${proto}}]}]}`);
    assert.ok(nested.bytes.toString().includes('"__proto__":{"polluted":true'));
    const tagged = await json.call(
      `{"jsonrpc":"2.0","id":3,"method":"victim.echo","params":[{"_t":"object","_v":${proto}}]}`,
    );
    assert.equal(
      tagged.bytes.toString(),
      '{"jsonrpc":"2.0","id":3,"result":{"__proto__":{"polluted":true,"isAdmin":true},"a":1}}',
      'the object tag decodes it as data',
    );
    // Naive service code that copies keys with assignment sets its own object's prototype, never Object.prototype;
    // the result is then not a plain object, so it cannot be encoded (-32603).
    assertError(
      await json.call(`{"jsonrpc":"2.0","id":4,"method":"victim.merge","params":[${proto}]}`),
      -32603,
      victim,
      'merge',
    );
    const ctor = await json.call(
      '{"jsonrpc":"2.0","id":5,"method":"victim.merge","params":[{"constructor":{"prototype":{"polluted":true}}}]}',
    );
    assert.deepEqual(ctor.value.result, { constructor: { prototype: { polluted: true } } });
    // Named: unknown parameter names, refused before any handler.
    const before = attackExecutions();
    for (const named of [
      proto,
      '{"constructor":{"prototype":{"polluted":true}}}',
      '{"value":1,"__proto__":null}',
      '{"toString":1}',
      '{"hasOwnProperty":1}',
    ]) {
      assertError(
        await json.call(`{"jsonrpc":"2.0","id":6,"method":"victim.echo","params":${named}}`),
        -32602,
        victim,
        `named ${named}`,
      );
    }
    assert.equal(attackExecutions(), before, 'no handler ran for refused named params');
    // The request object itself carrying __proto__ and constructor keys.
    const own = await json.call(
      `{"jsonrpc":"2.0","id":7,"method":"victim.legit","params":[1],"__proto__":{"method":"victim.add"},"constructor":{"prototype":{"polluted":true}}}`,
    );
    assert.deepEqual(own.value, { jsonrpc: '2.0', id: 7, result: 2 });

    const msgpack = await AuthedPeer.open(victim, { codec: 'msgpack' });
    // {"jsonrpc":"2.0","id":8,"method":"victim.echo","params":[{"__proto__":{"polluted":true}}]}
    const head = msgpack.codec.encode({ jsonrpc: '2.0', id: 8, method: 'victim.echo', params: [] }).subarray(0, -1);
    const body = Buffer.concat([
      Buffer.from([0x91, 0x81, 0xa9]),
      Buffer.from('__proto__'),
      Buffer.from([0x81, 0xa8]),
      Buffer.from('polluted'),
      Buffer.from([0xc3]),
    ]);
    const mp = await msgpack.call(Buffer.concat([head, body]));
    assert.deepEqual(Object.keys(mp.value.result), ['__proto__'], 'msgpack keeps __proto__ as an own key');
    assert.equal(mp.value.result.polluted, undefined);
    assertPrototypeUntouched();
  } finally {
    await victim.close();
  }
});

test('class tags that were never registered (constructor, Function, __proto__, toString, Object, prototype) are refused with -32602 and no handler runs', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await AuthedPeer.open(victim);
    for (const tag of [
      'constructor',
      'Function',
      '__proto__',
      'toString',
      'hasOwnProperty',
      'Object',
      'prototype',
      'Error',
      'Buffer',
      '',
      'victim',
    ]) {
      for (const body of ['{}', '{"prototype":{"polluted":true}}', '"return process"', 'null']) {
        const reply = await peer.call(
          `{"jsonrpc":"2.0","id":1,"method":"victim.echo","params":[{"_t":${JSON.stringify(tag)},"_v":${body}}]}`,
        );
        assertError(reply, -32602, victim, `tag ${JSON.stringify(tag)} with ${body}`);
        assert.match(reply.value.error.message, /unknown tag/);
      }
      const named = await peer.call(
        `{"jsonrpc":"2.0","id":2,"method":"victim.echo","params":{"value":{"_t":${JSON.stringify(tag)},"_v":{}}}}`,
      );
      assertError(named, -32602, victim, `named tag ${tag}`);
    }
    // A tag that is not a string, and extra keys beside _t and _v.
    assertError(
      await peer.call('{"jsonrpc":"2.0","id":3,"method":"victim.echo","params":[{"_t":{"__proto__":1},"_v":{}}]}'),
      -32602,
      victim,
      'an object tag',
    );
    assertError(
      await peer.call(
        '{"jsonrpc":"2.0","id":4,"method":"victim.echo","params":[{"_t":"datetime","_v":"2020-01-01T00:00:00Z","__proto__":{}}]}',
      ),
      -32602,
      victim,
      'an extra key',
    );
    assert.equal(attackExecutions(), 0);
    assertPrototypeUntouched();
  } finally {
    await victim.close();
  }
});

test('method names found on every prototype, empty or malformed get -32601 and run nothing, bare or under the service name', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await AuthedPeer.open(victim);
    const names = [
      'constructor',
      '__proto__',
      'toString',
      'then',
      '',
      'hasOwnProperty',
      'valueOf',
      '__defineGetter__',
      'prototype',
      'call',
      'apply',
      'bind',
    ];
    for (const name of names) {
      for (const method of [name, `victim.${name}`, `rpc.${name}`, `${name}.legit`]) {
        assertError(await peer.call(request(method, [1])), -32601, victim, `method ${JSON.stringify(method)}`);
      }
    }
    for (const method of [
      '.',
      'victim.',
      '.legit',
      'victim..legit',
      'victim.legit.',
      ' victim.legit',
      'VICTIM.LEGIT',
      'victim.legit\u0000',
    ]) {
      assertError(await peer.call(request(method, [1])), -32601, victim, `method ${JSON.stringify(method)}`);
    }
    assert.equal(attackExecutions(), 0);
    assert.equal(executions.get('legit') ?? 0, 0, 'no near-miss name reached legit');
    assertPrototypeUntouched();
  } finally {
    await victim.close();
  }
});

test('requests with a non-string method, a wrong jsonrpc member or a non-object shape get -32600 and run nothing', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await AuthedPeer.open(victim);
    const attacks = [
      request(42),
      request(null),
      request(['victim.legit']),
      request({ toString: 'victim.legit' }),
      '{"jsonrpc":"1.0","id":1,"method":"victim.legit","params":[1]}',
      '{"id":1,"method":"victim.legit","params":[1]}',
      '{"jsonrpc":2.0,"id":1,"method":"victim.legit","params":[1]}',
      '{"jsonrpc":"2.0","id":1,"method":"victim.legit","params":1}',
      '{"jsonrpc":"2.0","id":1,"method":"victim.legit","params":"1"}',
      '{"jsonrpc":"2.0","id":{"a":1},"method":"victim.legit"}',
      '{"jsonrpc":"2.0","id":[1],"method":"victim.legit"}',
      '{"jsonrpc":"2.0","id":true,"method":"victim.legit"}',
      '"victim.legit"',
      '42',
      'null',
      'true',
    ];
    for (const text of attacks) assertError(await peer.call(text), -32600, victim, text);
    assert.equal(executions.get('legit') ?? 0, 0);
  } finally {
    await victim.close();
  }
});

test('a method name of 1 MiB is answered with -32601 quoting at most 64 characters, and the server log line is as short', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await AuthedPeer.open(victim);
    const long = `victim.${'a'.repeat(1024 * 1024)}`;
    const reply = await peer.call(request(long, [1]));
    assertError(reply, -32601, victim, 'a 1 MiB method name');
    assert.ok(reply.value.error.message.length < 120, `a ${reply.value.error.message.length}-character message`);
    const notification = JSON.stringify({ jsonrpc: '2.0', method: long });
    await peer.send(notification);
    assert.deepEqual((await peer.call(request('victim.legit', [1]))).value.result, 2, 'the notification got no reply');
    const logged = victim.logs.filter((line) => String(line.obj.method ?? '').includes('victim.aaa'));
    assert.ok(logged.length > 0, 'the call reached the log');
    for (const line of logged)
      assert.ok(
        String(line.obj.method).length < 120,
        `a logged method name of ${String(line.obj.method).length} characters`,
      );
    for (const line of victim.logs)
      assert.ok(JSON.stringify(line.obj).length < 1_000, `a log line of ${JSON.stringify(line.obj).length} characters`);
    assert.equal(attackExecutions(), 0);
  } finally {
    await victim.close();
  }
});

test('method names carrying newlines and forged JSON log lines stay quoted on one line in the reply and in the log', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await AuthedPeer.open(victim);
    const forged = 'victim.legit\n{"level":50,"msg":"admin logged in","secret":"x"}\r\n\u2028INFO: forged';
    const reply = await peer.call(request(forged, [1]));
    assertError(reply, -32601, victim, 'a forged log line');
    assert.ok(!reply.value.error.message.includes('\n'));
    const logged = victim.logs.filter((line) => JSON.stringify(line.obj).includes('admin logged in'));
    assert.ok(logged.length > 0, 'the name reached the log (as a quoted value)');
    for (const line of logged) {
      for (const value of Object.values(line.obj)) {
        if (typeof value === 'string')
          assert.ok(!/[\n\r\u2028]/.test(value), `a log field holds a raw line break: ${JSON.stringify(value)}`);
      }
    }
    assert.equal(attackExecutions(), 0);
    assert.equal(executions.get('legit') ?? 0, 0);
    assertNoLeak(logText(victim.logs), victim, 'the server log');
  } finally {
    await victim.close();
  }
});

test('a batch of 100,000 requests, or of 100,000 notifications, is refused whole with one -32600 and runs nothing', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await AuthedPeer.open(victim);
    const requests = Array.from({ length: 100_000 }, (_, i) => ({
      jsonrpc: '2.0',
      id: i,
      method: 'victim.add',
      params: [i, 1],
    }));
    const refused = await peer.call(requests);
    assertError(refused, -32600, victim, 'a batch of 100,000');
    assert.equal(refused.value.id, null);
    const notifications = requests.map(({ id: _id, ...rest }) => rest);
    assertError(await peer.call(notifications), -32600, victim, 'a batch of 100,000 notifications');
    assertError(await peer.call(requests.slice(0, 101)), -32600, victim, 'a batch of 101');
    assert.equal(attackExecutions(), 0, 'nothing ran');
    // At the limit every request runs once.
    const atLimit = await peer.call(requests.slice(0, 100));
    assert.equal(atLimit.value.length, 100);
    assert.equal(executions.get('add'), 100);
  } finally {
    await victim.close();
  }
});

test('nested and empty batches get -32600 per bad element and their inner requests never run', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await AuthedPeer.open(victim);
    const inner = { jsonrpc: '2.0', id: 1, method: 'victim.add', params: [1, 2] };
    assertError(await peer.call([]), -32600, victim, 'an empty batch');
    const nested = await peer.call([[inner], [[inner]], [], inner]);
    assert.equal(nested.value.length, 4);
    for (const element of nested.value.slice(0, 3)) assert.equal(element.error.code, -32600);
    assert.deepEqual(nested.value[3], { jsonrpc: '2.0', id: 1, result: 3 });
    assert.equal(executions.get('add'), 1, 'only the top-level request ran');
    const deep = await peer.call('['.repeat(60) + JSON.stringify(inner) + ']'.repeat(60));
    assert.equal(deep.value.length, 1);
    assert.equal(deep.value[0].error.code, -32600);
    assert.equal(executions.get('add'), 1);
  } finally {
    await victim.close();
  }
});
