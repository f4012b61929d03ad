// GawServer hosting several services over a real connection: per-call and shared instances,
// registered serializable values both ways, thrown non-Error values, notifications that throw,
// hostile method names, the rpc. built-ins, the handler timeout, and what the server logs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawClient } from '../../src/client/index.js';
import { GawServer, entrypoint, service } from '../../src/server/index.js';
import { serializable } from '../../src/serializable/index.js';
import { RemoteError, ServiceError } from '../../src/errors.js';
import type { GawError } from '../../src/errors.js';
import { rpcErrorCodes } from '../../src/jsonrpc/index.js';
import {
  Gate,
  RawClient,
  capturingLogger,
  makeSecret,
  startServer,
  until,
  within,
} from '../helpers/server-fixtures.js';

@serializable('test.Vector')
class Vector {
  constructor(
    public x = 0,
    public y = 0,
  ) {}
  get length(): number {
    return Math.hypot(this.x, this.y);
  }
}

let perCallConstructed = 0;
let sharedConstructed = 0;
let notificationRan = new Gate();

class MathService {
  static serviceName = 'math';
  readonly #greeting: string;
  #calls = 0;
  constructor(greeting: string) {
    perCallConstructed++;
    this.#greeting = greeting;
  }
  @entrypoint plus(a: number, b: number): string {
    this.#calls++;
    return `${this.#greeting}: ${a + b} (call ${this.#calls} on this instance)`;
  }
  @entrypoint scale(v: Vector, factor: number): Vector {
    assert.ok(v instanceof Vector, 'the param arrives as the registered class');
    return new Vector(v.x * factor, v.y * factor);
  }
  @entrypoint throwString(): never {
    throw 'plain string';
  }
  @entrypoint throwObject(): never {
    throw { reason: 'not an Error' };
  }
  @entrypoint async rejectUndefined(): Promise<never> {
    throw undefined;
  }
  @entrypoint refuse(): never {
    throw new ServiceError(-32099, 'refused by the service', { retryAfterMs: 5 });
  }
  @entrypoint boom(): never {
    notificationRan.open();
    throw new Error('boom in a notification');
  }
  @entrypoint async forever(): Promise<never> {
    return new Promise(() => {});
  }
  internalHelper(): string {
    return 'never callable';
  }
}

@service('counter', { shared: true })
class CounterService {
  #count = 0;
  constructor() {
    sharedConstructed++;
  }
  @entrypoint next(): number {
    return ++this.#count;
  }
}

test('several services on one server each answer under their own names', async () => {
  const server = await startServer({}, [MathService, 'hi'], CounterService);
  const client = new GawClient({ port: server.address.port });
  try {
    assert.deepEqual(server.services.map((s) => s.name).sort(), ['counter', 'math']);
    assert.equal(await client.call('math.plus', [1, 2]), 'hi: 3 (call 1 on this instance)');
    assert.equal(await client.call('counter.next'), 1);
    await assert.rejects(
      client.call('plus', [1, 2]),
      (err: RemoteError) => err.rpcCode === rpcErrorCodes.METHOD_NOT_FOUND,
    );
  } finally {
    await client.close();
    await server.close();
  }
});

test('a per-call service gets a new instance per call and a shared one keeps its state', async () => {
  const server = await startServer({}, [MathService, 'hi'], CounterService);
  const client = new GawClient({ port: server.address.port });
  try {
    const perCallBefore = perCallConstructed;
    const sharedBefore = sharedConstructed;
    const sums = await Promise.all([1, 2, 3].map((n) => client.call<string>('math.plus', [n, n])));
    assert.deepEqual(sums, [
      'hi: 2 (call 1 on this instance)',
      'hi: 4 (call 1 on this instance)',
      'hi: 6 (call 1 on this instance)',
    ]);
    assert.equal(perCallConstructed - perCallBefore, 3);
    const counts = await Promise.all([0, 1, 2, 3].map(() => client.call<number>('counter.next')));
    assert.deepEqual(counts.sort(), [1, 2, 3, 4]);
    assert.equal(sharedConstructed - sharedBefore, 0, 'the shared instance was built at add(), not per call');
  } finally {
    await client.close();
    await server.close();
  }
});

for (const codec of ['json', 'msgpack'] as const) {
  test(`registered serializable values cross in params and results as their class over ${codec}`, async () => {
    const server = await startServer({}, [MathService, 'hi']);
    const client = new GawClient({ port: server.address.port, codec });
    try {
      const scaled = await client.call<Vector>('math.scale', [new Vector(3, 4), 2]);
      assert.ok(scaled instanceof Vector);
      assert.deepEqual({ x: scaled.x, y: scaled.y }, { x: 6, y: 8 });
      assert.equal(scaled.length, 10);
      const named = await client.call<Vector>('math.scale', { v: new Vector(1, 0), factor: 5 });
      assert.ok(named instanceof Vector);
      assert.equal(named.x, 5);
    } finally {
      await client.close();
      await server.close();
    }
  });
}

test('a handler that throws a non-Error value gets a -32000 reply describing it, with no stack', async () => {
  const server = await startServer({}, [MathService, 'hi']);
  const client = new GawClient({ port: server.address.port });
  try {
    const cases: [string, string][] = [
      ['math.throwString', 'string'],
      ['math.throwObject', 'object'],
      ['math.rejectUndefined', 'undefined'],
    ];
    for (const [method, name] of cases) {
      await assert.rejects(client.call(method), (err: RemoteError) => {
        assert.ok(err instanceof RemoteError, method);
        assert.equal(err.rpcCode, rpcErrorCodes.SERVER_ERROR, method);
        assert.equal((err.data as { name: string }).name, name, method);
        assert.equal(Object.hasOwn(err.data as object, 'stack'), false, method);
        return true;
      });
    }
    await assert.rejects(
      client.call('math.refuse'),
      (err: RemoteError) =>
        err.rpcCode === -32099 &&
        err.message === 'refused by the service' &&
        (err.data as { retryAfterMs: number }).retryAfterMs === 5,
    );
  } finally {
    await client.close();
    await server.close();
  }
});

test('a notification whose handler throws gets no reply and the connection carries on', async () => {
  notificationRan = new Gate();
  const server = await startServer({}, [MathService, 'hi']);
  const client = await RawClient.open(server.address.port);
  try {
    client.send({ jsonrpc: '2.0', method: 'math.boom' });
    await within(notificationRan.promise, 5_000, 'the notification running');
    assert.deepEqual(await client.call({ jsonrpc: '2.0', id: 7, method: 'rpc.ping' }), {
      jsonrpc: '2.0',
      id: 7,
      result: 'pong',
    });
  } finally {
    await client.close();
    await server.close();
  }
});

test('hostile and unexposed method names are -32601 over the wire', async () => {
  const server = await startServer({}, [MathService, 'hi'], CounterService);
  const client = await RawClient.open(server.address.port);
  try {
    const names = [
      'math.constructor',
      'math.__proto__',
      'math.toString',
      'math.hasOwnProperty',
      'math.then',
      'math.internalHelper',
      'math.#greeting',
      '__proto__.plus',
      'constructor',
      'math',
      'math.plus.call',
      'x'.repeat(10_000),
    ];
    for (const [i, method] of names.entries()) {
      const reply = (await client.call({ jsonrpc: '2.0', id: i, method, params: [] })) as {
        id: number;
        error: { code: number; message: string };
      };
      assert.equal(reply.id, i);
      assert.equal(reply.error.code, rpcErrorCodes.METHOD_NOT_FOUND, method.slice(0, 40));
      assert.ok(reply.error.message.length < 200, 'the name is quoted short');
    }
  } finally {
    await client.close();
    await server.close();
  }
});

test('rpc.ping and rpc.discover answer over the wire', async () => {
  const server = await startServer({}, [MathService, 'hi'], CounterService);
  const client = new GawClient({ port: server.address.port });
  try {
    assert.equal(await client.call('rpc.ping'), 'pong');
    const doc = await client.call<{ methods: { name: string; params: { name: string }[] }[] }>('rpc.discover');
    const plus = doc.methods.find((m) => m.name === 'math.plus');
    assert.deepEqual(
      plus?.params.map((p) => p.name),
      ['a', 'b'],
    );
    assert.ok(doc.methods.some((m) => m.name === 'counter.next'));
    assert.ok(!doc.methods.some((m) => m.name === 'math.internalHelper'));
  } finally {
    await client.close();
    await server.close();
  }
});

test('a handler past handlerTimeoutMs is answered with -32003', async () => {
  const server = await startServer({ handlerTimeoutMs: 50 }, [MathService, 'hi']);
  const client = new GawClient({ port: server.address.port });
  try {
    await assert.rejects(
      client.call('math.forever'),
      (err: RemoteError) => err.rpcCode === rpcErrorCodes.HANDLER_TIMEOUT,
    );
  } finally {
    await client.close();
    await server.close();
  }
});

test('the server logs its address, suite and services at start, and never the secret', async () => {
  const logger = capturingLogger();
  const secret = makeSecret();
  const server = await startServer({ secret, encrypt: true, logger }, [MathService, 'hi']);
  const client = new GawClient({ port: server.address.port, secret, encrypt: true });
  try {
    const started = logger.lines.find((line) => line.msg === 'gaw server listening');
    assert.ok(started);
    assert.equal(started.level, 'info');
    assert.equal(started.obj.address, `127.0.0.1:${server.address.port}`);
    assert.equal(started.obj.suite, 'cbc');
    assert.deepEqual(started.obj.services, {
      math: ['plus', 'scale', 'throwString', 'throwObject', 'rejectUndefined', 'refuse', 'boom', 'forever'],
    });
    await client.call('math.plus', [1, 2]);
    await assert.rejects(client.call('math.throwString'));
    assert.ok(
      logger.lines.some((line) => line.level === 'debug' && line.obj.method === 'math.plus'),
      'each call is logged at debug',
    );
    assert.ok(
      logger.lines.some((line) => line.level === 'warn' && line.obj.method === 'math.throwString'),
      'a handler error is a warning',
    );
    assert.ok(!JSON.stringify(logger.lines).includes(secret), 'the secret never appears in a log line');
  } finally {
    await client.close();
    await server.close();
  }
});

// A GawClient with the wrong secret checks server_confirm first and leaves without a ClientFinish:
// the server must still log that as one failed authentication.
test('a client with the wrong secret is logged once by the server, with its address and no key material', async () => {
  const logger = capturingLogger();
  const secret = makeSecret();
  const wrongSecret = makeSecret();
  const server = await startServer({ secret, encrypt: true, logger }, [MathService, 'hi']);
  const wrong = new GawClient({ port: server.address.port, secret: wrongSecret, encrypt: true, retries: 0 });
  try {
    await assert.rejects(wrong.call('math.plus', [1, 2]), (err: GawError) => err.code === 'GAW_ERR_AUTH_FAILED');
    await until(
      () => logger.lines.some((line) => line.msg === 'handshake failed'),
      'the authentication failure being logged',
      2_000,
    );
    const failures = logger.lines.filter((line) => line.msg === 'handshake failed');
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.level, 'warn');
    assert.match(String(failures[0]!.obj.peer), /^127\.0\.0\.1:\d+$/);
    const everything = JSON.stringify(logger.lines);
    assert.ok(!everything.includes(secret) && !everything.includes(wrongSecret), 'no secret appears in a log line');
  } finally {
    await wrong.close();
    await server.close();
  }
});

test('a GawServer refuses options that make no sense, naming the problem', () => {
  assert.throws(() => new GawServer({ maxInFlight: 0 }), /maxInFlight/);
  assert.throws(
    () => new GawServer({ encrypt: true }),
    (err: GawError) => err.code === 'GAW_ERR_BAD_SECRET',
  );
  assert.throws(
    () => new GawServer({ secret: 'short' }),
    (err: GawError) => err.code === 'GAW_ERR_BAD_SECRET',
  );
});
