// The dispatcher: every JSON-RPC spec example, services and instances, built-ins, refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';
import { createCodec } from '../../src/serializable/index.js';
import { Dispatcher } from '../../src/server/dispatch.js';
import { entrypoint, service } from '../../src/server/service.js';
import { SpecService, assertSpecReply, specCases } from './spec-helpers.js';

const codec = createCodec('json');

/** Runs bytes through decode and the dispatcher as a transport would. */
async function roundTrip(dispatcher: Dispatcher, bytes: Buffer): Promise<unknown> {
  let message: unknown;
  try {
    message = codec.decode(bytes);
  } catch (err) {
    return dispatcher.parseErrorReply(err);
  }
  return dispatcher.dispatch(message);
}

test('every JSON-RPC 2.0 specification example gets the specified reply', async () => {
  const dispatcher = new Dispatcher().add(SpecService);
  assert.ok(specCases.length >= 14);
  for (const specCase of specCases) {
    const bytes = Buffer.from(specCase.request_raw ?? JSON.stringify(specCase.request), 'utf8');
    assertSpecReply(await roundTrip(dispatcher, bytes), specCase);
  }
  assert.ok(SpecService.notified.includes('update [1,2,3,4,5]'), 'the update notification ran');
  assert.ok(SpecService.notified.includes('notify_sum [1,2,4]'), 'the notify_sum notification ran');
});

class Counter {
  static serviceName = 'counter';
  static constructed = 0;
  count = 0;
  constructor(public readonly label: string) {
    Counter.constructed++;
  }
  @entrypoint increment() {
    return `${this.label}:${++this.count}`;
  }
}

@service('shared_counter', { shared: true })
class SharedCounter {
  static constructed = 0;
  count = 0;
  constructor(public readonly label: string) {
    SharedCounter.constructed++;
  }
  @entrypoint increment() {
    return `${this.label}:${++this.count}`;
  }
}

const call = (method: string, params?: unknown, id: unknown = 1): unknown =>
  params === undefined ? { jsonrpc: '2.0', method, id } : { jsonrpc: '2.0', method, params, id };

async function result(dispatcher: Dispatcher, method: string, params?: unknown): Promise<unknown> {
  const reply = (await dispatcher.dispatch(call(method, params))) as { result?: unknown; error?: unknown };
  assert.equal(reply.error, undefined, JSON.stringify(reply.error));
  return reply.result;
}

test('a request with id null is answered with id null; without an id member it is a notification', async () => {
  const dispatcher = new Dispatcher().add(Counter, 'ids');
  assert.deepEqual(await dispatcher.dispatch({ jsonrpc: '2.0', method: 'increment', id: null }), {
    jsonrpc: '2.0',
    id: null,
    result: 'ids:1',
  });
  assert.deepEqual(await dispatcher.dispatch({ jsonrpc: '2.0', method: 'increment', id: 'abc' }), {
    jsonrpc: '2.0',
    id: 'abc',
    result: 'ids:1',
  });
  assert.equal(await dispatcher.dispatch({ jsonrpc: '2.0', method: 'increment' }), undefined);
});

test('a per-call service gets a new instance with the constructor arguments for every call', async () => {
  const dispatcher = new Dispatcher().add(Counter, 'per-call');
  const before = Counter.constructed;
  assert.equal(await result(dispatcher, 'counter.increment'), 'per-call:1');
  assert.equal(await result(dispatcher, 'counter.increment'), 'per-call:1');
  assert.equal(Counter.constructed - before, 2);
});

test('a shared service is constructed once at add and keeps its state across calls', async () => {
  const before = SharedCounter.constructed;
  const dispatcher = new Dispatcher().add(SharedCounter, 'shared');
  assert.equal(SharedCounter.constructed - before, 1);
  assert.equal(await result(dispatcher, 'shared_counter.increment'), 'shared:1');
  assert.equal(await result(dispatcher, 'shared_counter.increment'), 'shared:2');
  assert.equal(SharedCounter.constructed - before, 1);
});

test('several services share one dispatcher; bare names resolve only with exactly one service', async () => {
  const one = new Dispatcher().add(Counter, 'solo');
  assert.equal(await result(one, 'increment'), 'solo:1');
  const two = new Dispatcher().add(Counter, 'a').add(SharedCounter, 'b');
  assert.deepEqual(
    two.services.map((s) => s.name),
    ['counter', 'shared_counter'],
  );
  assert.equal(await result(two, 'counter.increment'), 'a:1');
  assert.equal(await result(two, 'shared_counter.increment'), 'b:1');
  const bare = (await two.dispatch(call('increment'))) as { error: { code: number; message: string } };
  assert.equal(bare.error.code, -32601);
  assert.equal(bare.error.message, 'Method not found: "increment"');
});

test('adding two services with the same name is an error at add', () => {
  const dispatcher = new Dispatcher().add(Counter, 'x');
  assert.throws(
    () => dispatcher.add(Counter, 'y'),
    (err: unknown) =>
      err instanceof UsageError &&
      err.code === 'GAW_ERR_DUPLICATE_SERVICE' &&
      /"counter" was already added/.test(err.message),
  );
  assert.throws(
    () => dispatcher.add(class NotService {} as never),
    (err: unknown) => err instanceof UsageError && err.code === 'GAW_ERR_NOT_A_SERVICE',
  );
});

test('rpc.ping answers pong and rpc.discover lists every service, method and parameter', async () => {
  class Math {
    static serviceName = 'math';
    @entrypoint plus(a: number, b = 1) {
      return a + b;
    }
    @entrypoint all(...values: number[]) {
      return values;
    }
  }
  const dispatcher = new Dispatcher({ openRpcInfo: { title: 'demo', version: '2.1.0' } }).add(Math).add(Counter, 'c');
  assert.equal(await result(dispatcher, 'rpc.ping'), 'pong');
  assert.equal(await result(dispatcher, 'rpc.ping', []), 'pong');
  const doc = (await result(dispatcher, 'rpc.discover')) as any;
  assert.ok(doc === dispatcher.discover(), 'rpc.discover returns the discover() document');
  assert.equal(doc.openrpc, '1.2.6');
  assert.deepEqual(doc.info, { title: 'demo', version: '2.1.0' });
  assert.deepEqual(
    doc.methods.map((m: any) => m.name),
    ['math.plus', 'math.all', 'counter.increment'],
  );
  assert.deepEqual(doc.methods[0].params, [
    { name: 'a', required: true, schema: {} },
    { name: 'b', required: false, schema: {} },
  ]);
  assert.equal(doc.methods[1].params[0]['x-gaw-rest'], true);
  assert.deepEqual(doc.methods[0].tags, [{ name: 'math' }]);
  assert.deepEqual(doc['x-gaw-services'], [
    { name: 'math', shared: false, methods: ['plus', 'all'] },
    { name: 'counter', shared: false, methods: ['increment'] },
  ]);
  const withParams = (await dispatcher.dispatch(call('rpc.ping', [1]))) as { error: { code: number } };
  assert.equal(withParams.error.code, -32602);
  const unknown = (await dispatcher.dispatch(call('rpc.nothing'))) as { error: { code: number } };
  assert.equal(unknown.error.code, -32601);
});

test('names under rpc. never reach a hosted service, even as bare names', async () => {
  class Odd {
    static serviceName = 'odd';
    static entrypoints = ['rpc.ping'];
    'rpc.ping'() {
      return 'service';
    }
  }
  const dispatcher = new Dispatcher().add(Odd);
  assert.equal(await result(dispatcher, 'rpc.ping'), 'pong');
  assert.equal(await result(dispatcher, 'odd.rpc.ping'), 'service');
});

test('a sync handler is answered one microtask after handle() returns', async () => {
  const dispatcher = new Dispatcher().add(Counter, 'tick');
  let isAnswered = false;
  void dispatcher.dispatch(call('counter.increment')).then(() => {
    isAnswered = true;
  });
  await Promise.resolve();
  assert.equal(isAnswered, true);
});

test('refuse answers each request id with the given code and nothing for notifications', () => {
  const dispatcher = new Dispatcher().add(Counter, 'r');
  assert.deepEqual(dispatcher.refuse(call('counter.increment', [], 7), -32001, 'Server shutting down'), {
    jsonrpc: '2.0',
    id: 7,
    error: { code: -32001, message: 'Server shutting down' },
  });
  assert.equal(dispatcher.refuse({ jsonrpc: '2.0', method: 'counter.increment' }, -32002, 'busy'), undefined);
  const batch = dispatcher.refuse(
    [call('a', [], 1), { jsonrpc: '2.0', method: 'n' }, call('b', [], 'x'), 5],
    -32002,
    'Server overloaded',
  );
  assert.deepEqual(batch, [
    { jsonrpc: '2.0', id: 1, error: { code: -32002, message: 'Server overloaded' } },
    { jsonrpc: '2.0', id: 'x', error: { code: -32002, message: 'Server overloaded' } },
    { jsonrpc: '2.0', id: null, error: { code: -32002, message: 'Server overloaded' } },
  ]);
  assert.equal(dispatcher.refuse([{ jsonrpc: '2.0', method: 'n' }], -32002, 'busy'), undefined);
  assert.deepEqual(dispatcher.refuse([], -32001, 'bye'), {
    jsonrpc: '2.0',
    id: null,
    error: { code: -32001, message: 'bye' },
  });
});

test('options are validated with a message naming the option', () => {
  const bad: [object, RegExp][] = [
    [{ maxBatch: 0 }, /maxBatch/],
    [{ maxBatch: 1.5 }, /maxBatch/],
    [{ handlerTimeoutMs: -1 }, /handlerTimeoutMs/],
    [{ handlerTimeoutMs: Number.POSITIVE_INFINITY }, /handlerTimeoutMs/],
  ];
  for (const [options, pattern] of bad) {
    assert.throws(
      () => new Dispatcher(options),
      (err: unknown) => err instanceof UsageError && err.code === 'GAW_ERR_INVALID_OPTION' && pattern.test(err.message),
    );
  }
});
