// Batches: limits, empty and nested batches, all-notification batches, concurrent elements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dispatcher } from '../../src/server/dispatch.js';
import { entrypoint } from '../../src/server/service.js';

class Work {
  static serviceName = 'work';
  static ran = 0;
  @entrypoint double(n: number) {
    Work.ran++;
    return n * 2;
  }
  @entrypoint async delayed(n: number) {
    Work.ran++;
    await new Promise((resolve) => setImmediate(resolve));
    return n;
  }
}

const request = (id: number, n = id) => ({
  jsonrpc: '2.0',
  method: id % 2 === 0 ? 'work.double' : 'work.delayed',
  params: [n],
  id,
});
const notification = (n: number) => ({ jsonrpc: '2.0', method: 'work.double', params: [n] });

test('a batch of 100 (the default cap) is answered in full', async () => {
  const dispatcher = new Dispatcher().add(Work);
  const batch = Array.from({ length: 100 }, (_, i) => (i % 10 === 9 ? notification(i) : request(i)));
  Work.ran = 0;
  const replies = (await dispatcher.dispatch(batch)) as { id: number; result: number }[];
  assert.equal(Work.ran, 100);
  assert.equal(replies.length, 90);
  const byId = new Map(replies.map((reply) => [reply.id, reply.result]));
  for (let i = 0; i < 100; i++) {
    if (i % 10 === 9) assert.equal(byId.has(i), false);
    else assert.equal(byId.get(i), i % 2 === 0 ? i * 2 : i);
  }
});

test('a batch of 101 is refused whole with one -32600 naming the limit, and nothing runs', async () => {
  const dispatcher = new Dispatcher().add(Work);
  Work.ran = 0;
  const reply = await dispatcher.dispatch(Array.from({ length: 101 }, (_, i) => request(i)));
  assert.deepEqual(reply, {
    jsonrpc: '2.0',
    id: null,
    error: {
      code: -32600,
      message: 'Invalid Request: a batch of 101 messages exceeds the limit of 100; nothing was run',
    },
  });
  assert.equal(Work.ran, 0);
});

test('maxBatch changes the cap', async () => {
  const dispatcher = new Dispatcher({ maxBatch: 2 }).add(Work);
  assert.equal(((await dispatcher.dispatch([request(0), request(2)])) as unknown[]).length, 2);
  assert.equal(
    ((await dispatcher.dispatch([request(0), request(2), request(4)])) as { error: { code: number } }).error.code,
    -32600,
  );
});

test('an empty batch is a single -32600 with id null', async () => {
  const reply = await new Dispatcher().add(Work).dispatch([]);
  assert.deepEqual(reply, {
    jsonrpc: '2.0',
    id: null,
    error: { code: -32600, message: 'Invalid Request: the batch is empty' },
  });
});

test('a nested array inside a batch is -32600 for that element only', async () => {
  const replies = (await new Dispatcher().add(Work).dispatch([[request(2)], request(4), []])) as {
    id: unknown;
    error?: { code: number; message: string };
    result?: unknown;
  }[];
  assert.equal(replies.length, 3);
  const errors = replies.filter((reply) => reply.error !== undefined);
  assert.equal(errors.length, 2);
  for (const reply of errors) {
    assert.equal(reply.id, null);
    assert.equal(reply.error!.code, -32600);
    assert.match(reply.error!.message, /batch may not contain another batch/);
  }
  assert.deepEqual(replies.find((reply) => reply.id === 4)?.result, 8);
});

test('a batch of only notifications gets no reply at all, but every one runs', async () => {
  const dispatcher = new Dispatcher().add(Work);
  Work.ran = 0;
  assert.equal(
    await dispatcher.dispatch([notification(1), notification(2), { jsonrpc: '2.0', method: 'missing' }]),
    undefined,
  );
  assert.equal(Work.ran, 2);
});

test('batch elements run concurrently: an element may wait on a later one', async () => {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  class Pair {
    static serviceName = 'pair';
    @entrypoint async waiter() {
      await released;
      return 'waited';
    }
    @entrypoint releaser() {
      release();
      return 'released';
    }
  }
  const replies = (await new Dispatcher().add(Pair).dispatch([
    { jsonrpc: '2.0', method: 'pair.waiter', id: 1 },
    { jsonrpc: '2.0', method: 'pair.releaser', id: 2 },
  ])) as { id: number; result: string }[];
  assert.deepEqual(replies.map((reply) => [reply.id, reply.result]).sort(), [
    [1, 'waited'],
    [2, 'released'],
  ]);
});

test('invalid elements, unknown methods and duplicate ids are each answered', async () => {
  const replies = (await new Dispatcher()
    .add(Work)
    .dispatch([
      request(2),
      request(2),
      'text',
      { jsonrpc: '2.0', method: 'nope', id: 'n' },
      { jsonrpc: '2.0', method: 'work.double', params: [1], id: {} },
    ])) as { id: unknown; error?: { code: number } }[];
  assert.deepEqual(
    replies.map((reply) => [reply.id, reply.error?.code ?? 'ok']),
    [
      [2, 'ok'],
      [2, 'ok'],
      [null, -32600],
      ['n', -32601],
      [null, -32600],
    ],
  );
});
