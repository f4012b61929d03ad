// Handlers that misbehave on a real GawServer: they throw or reject with values that are not
// Errors, return values that cannot be encoded, never resolve, or resolve after the caller gave up
// or left. After each: a bounded JSON-RPC error with no stack and no secret, the connection and the
// server keep serving, and a late result is dropped without harm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { type GawError, RemoteError } from '../../src/errors.js';
import { within, until } from '../helpers/server-fixtures.js';
import { AuthedPeer } from './helpers/authed-peer.js';
import {
  assertNoLeak,
  checkServes,
  executions,
  holdWaits,
  honestClient,
  logText,
  startVictim,
  thrownValues,
} from './helpers/victim.js';

function request(method: string, params: unknown[], id: unknown = 1): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, params });
}

test('handlers that throw or reject with non-Error values answer a bounded -32000 with a description and no stack, and the connection keeps serving', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await AuthedPeer.open(victim);
    const expected: Record<string, [number, string]> = {
      string: [-32000, 'a bare string'],
      number: [-32000, 'the handler threw number 42'],
      null: [-32000, 'the handler threw null'],
      undefined: [-32000, 'the handler threw undefined'],
      symbol: [-32000, 'the handler threw a symbol'],
      bigint: [-32000, `the handler threw bigint ${10n ** 30n}`],
      function: [-32000, 'the handler threw a function'],
      object: [-32000, 'the handler threw an object that is not an Error'],
      errorLike: [-32000, 'an error-like object'],
      hostileGetters: [-32000, 'the handler threw a value that could not be described'],
      frozenStackless: [-32000, 'no stack'],
      serviceError: [4001, 'a chosen error'],
      // A Proxy whose traps throw defeats even `instanceof`: answered as gaw's own internal error.
      proxy: [-32603, 'Internal error'],
    };
    assert.deepEqual(
      Object.keys(expected).sort(),
      Object.keys(thrownValues)
        .filter((k) => k !== 'hugeMessage')
        .sort(),
    );
    for (const method of ['victim.throws', 'victim.rejects']) {
      for (const [kind, [code, message]] of Object.entries(expected)) {
        const reply = await peer.call(request(method, [kind]));
        const text = reply.bytes.toString();
        assert.equal(reply.value.error?.code, code, `${method}(${kind}): ${text}`);
        assert.equal(reply.value.error.message, message, `${method}(${kind})`);
        assertNoLeak(text, victim, `${method}(${kind})`);
        assert.ok(!('stack' in (reply.value.error.data ?? {})), 'no stack in error data');
      }
    }
    const huge = await peer.call(request('victim.throws', ['hugeMessage']));
    assert.equal(huge.value.error.code, -32000);
    assert.ok(huge.bytes.length < 25_000, `a 1 MB message was cut to a ${huge.bytes.length}-byte reply`);
    assert.deepEqual((await peer.call(request('victim.legit', [1]))).value.result, 2);
    assertNoLeak(logText(victim.logs).replace(/"stack":"[^"]*"/g, ''), victim, 'the server log');
  } finally {
    await victim.close();
  }
});

test('with a real pino logger, a thrown Error whose getters throw is still answered -32000 "could not be described" (defect D2)', async () => {
  const lines: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  const victim = await startVictim({ encrypt: true, logger });
  try {
    const peer = await AuthedPeer.open(victim);
    for (const method of ['victim.throws', 'victim.rejects']) {
      const reply = await peer.call(request(method, ['hostileGetters']));
      assert.equal(reply.value.error?.code, -32000, `${method}: ${reply.bytes.toString()}`);
      assert.equal(reply.value.error.message, 'the handler threw a value that could not be described');
    }
    assert.equal(lines.filter((line) => line.includes('handler failed')).length, 2, 'each failure was logged once');
    assertNoLeak(lines.join('').replace(/"stack":"(?:[^"\\]|\\.)*"/g, ''), victim, 'the pino log');
  } finally {
    await victim.close();
  }
});

test('results that cannot be encoded (a function, a cycle, a throwing getter) answer -32603 naming the path, without a stack', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const peer = await AuthedPeer.open(victim);
    for (const [kind, pattern] of [
      ['function', /result/],
      ['cycle', /cycle/],
      ['getter', /result\.bomb/],
    ] as const) {
      const reply = await peer.call(request('victim.unencodable', [kind]));
      assert.equal(reply.value.error?.code, -32603, kind);
      assert.match(reply.value.error.message, pattern);
      assertNoLeak(reply.bytes.toString(), victim, kind);
    }
    assert.equal(executions.get('unencodable'), 3);
    // In a batch, only the bad element is replaced.
    const batch = await peer.call([
      JSON.parse(request('victim.unencodable', ['cycle'], 1)),
      JSON.parse(request('victim.legit', [1], 2)),
    ]);
    assert.equal(batch.value[0].error.code, -32603);
    assert.deepEqual(batch.value[1], { jsonrpc: '2.0', id: 2, result: 2 });
  } finally {
    await victim.close();
  }
});

test('a handler that never resolves is answered -32003 at handlerTimeoutMs, and the connection keeps serving', async () => {
  const victim = await startVictim({ encrypt: true, handlerTimeoutMs: 200 });
  try {
    const peer = await AuthedPeer.open(victim);
    await peer.send(...[1, 2, 3].map((id) => request('victim.never', [], id)));
    const replies = [await peer.next(), await peer.next(), await peer.next()];
    for (const reply of replies) assert.equal(reply.value.error.code, -32003);
    assert.deepEqual(replies.map((r) => r.value.id).sort(), [1, 2, 3]);
    assert.deepEqual((await peer.call(request('victim.legit', [1]))).value.result, 2);
  } finally {
    await victim.close();
  }
});

test('handlers that never resolve (no handlerTimeoutMs): the client call times out, later calls are served, and close() ends at closeTimeoutMs', async () => {
  const victim = await startVictim({ encrypt: true, closeTimeoutMs: 300 });
  const client = honestClient(victim, { poolSize: 1 });
  try {
    const stuck = Array.from({ length: 10 }, () => client.call('victim.never', [], { timeoutMs: 200 }));
    for (const call of stuck) {
      await assert.rejects(call, (err: GawError) => {
        assert.equal(err.code, 'GAW_ERR_CALL_TIMEOUT');
        return true;
      });
    }
    assert.equal(await client.call('victim.legit', [1]), 2, 'the client is still served');
    const startMs = Date.now();
    await victim.close();
    assert.ok(Date.now() - startMs < 2_000, 'close() did not wait for the handlers that never finish');
  } finally {
    client.destroy();
    await victim.close();
  }
});

test('a handler that runs longer than idleTimeoutMs still gets its reply to the caller: a call in flight is not idleness (defect D3)', async () => {
  const victim = await startVictim({ encrypt: true, idleTimeoutMs: 300 });
  const client = honestClient(victim, { poolSize: 1 });
  try {
    const { gate, arrivals } = holdWaits(1);
    const call = client.call('victim.wait', [5]);
    await within(arrivals.all, 3_000, 'the handler starting');
    // Released only once the idle deadline has passed twice over, by the server's own timer.
    await new Promise((resolve) => setTimeout(resolve, 600));
    gate.open();
    assert.equal(await call, 5);
  } finally {
    client.destroy();
    await victim.close();
  }
});

test('a handler that resolves after the client gave up: the late reply is dropped, the next calls succeed, nothing is rejected unhandled', async () => {
  const victim = await startVictim({ encrypt: true });
  const client = honestClient(victim, { poolSize: 1 });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const { gate, arrivals } = holdWaits(5);
    const abort = new AbortController();
    const late = [
      ...[1, 2, 3].map((n) => client.call('victim.wait', [n], { timeoutMs: 100 })),
      ...[4, 5].map((n) => client.call('victim.wait', [n], { signal: abort.signal })),
    ];
    await within(arrivals.all, 3_000, 'five handlers starting');
    abort.abort();
    const outcomes = await Promise.allSettled(late);
    for (const outcome of outcomes) assert.equal(outcome.status, 'rejected');
    gate.open();
    // Late replies for forgotten ids may arrive before these calls' replies: none may settle the wrong call.
    assert.equal(await client.call('victim.legit', [7]), 8);
    assert.equal(await client.call('victim.wait', [9]), 9, 'the pending map was not confused by the late replies');
    assert.equal(client.pendingCount, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    client.destroy();
    await victim.close();
  }
});

test('a handler that resolves after its peer left: the reply is dropped, the server forgets the connection and keeps serving', async () => {
  const victim = await startVictim({ encrypt: true });
  try {
    const { gate, arrivals, returned } = holdWaits(20);
    const peer = await AuthedPeer.open(victim);
    await peer.send(...Array.from({ length: 20 }, (_, i) => request('victim.wait', [i], i)));
    await within(arrivals.all, 3_000, 'twenty handlers starting');
    peer.peer.raw.end();
    await until(() => victim.server.connectionCount === 0, 'the server seeing the peer leave');
    gate.open();
    await within(returned.all, 3_000, 'the twenty handlers returning');
    assert.equal(executions.get('wait'), 20, 'each request ran once');
    assert.deepEqual(
      victim.logs.filter((line) => line.level === 'error'),
      [],
      'a reply with nowhere to go is no error',
    );
    await checkServes(victim);
  } finally {
    await victim.close();
  }
});

test('with exposeStack left at its default, a thrown Error reaches the caller as a RemoteError without the server stack', async () => {
  const victim = await startVictim({ encrypt: true });
  const client = honestClient(victim);
  try {
    await assert.rejects(client.call('victim.rejects', ['string']), (err: RemoteError) => {
      assert.equal(err.rpcCode, -32000);
      assert.deepEqual(err.data, { name: 'string', message: 'a bare string' });
      return true;
    });
    const error = await client.call('victim.throws', ['hugeMessage']).catch((err: RemoteError) => err);
    assert.ok(error instanceof RemoteError);
    assert.ok(!JSON.stringify(error.data).includes('    at '), 'no server stack in the data');
    assert.ok(!(error.stack ?? '').includes('dispatch.js'), "the stack is the caller's own");
  } finally {
    client.destroy();
    await victim.close();
  }
});
