// GawClient's call surface against a real GawServer: call, the dynamic services form, batch,
// notify, RemoteError with the caller's stack, per-call timeouts and aborts, and the failures a
// caller must see at once: a closed port with retries 0, a wrong secret, a closed client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { GawClient } from '../../src/client/index.js';
import { entrypoint } from '../../src/server/index.js';
import { ConnectionError, RemoteError, ServiceError } from '../../src/errors.js';
import type { GawError } from '../../src/errors.js';
import { rpcErrorCodes } from '../../src/jsonrpc/index.js';
import { closedPort } from '../helpers/raw-socket.js';
import { Arrivals, Gate, capturingLogger, makeSecret, startServer, until, within } from '../helpers/server-fixtures.js';

class SlowService {
  static serviceName = 'slow';
  @entrypoint wait(): Promise<never> {
    return new Promise(() => {});
  }
}

let gate = new Gate();
let arrivals = new Arrivals(0);

class HeldService {
  static serviceName = 'held';
  @entrypoint async wait(): Promise<string> {
    arrivals.arrive();
    await gate.promise;
    return 'done';
  }
}

let notified = new Gate();
let notifiedWith: unknown[] = [];

class MathService {
  static serviceName = 'math';
  @entrypoint plus(a: number, b: number): number {
    return a + b;
  }
  @entrypoint divide(a: number, b: number): number {
    if (b === 0) throw new ServiceError(4000, 'division by zero', { dividend: a });
    return a / b;
  }
  @entrypoint remember(...args: unknown[]): void {
    notifiedWith = args;
    notified.open();
  }
  @entrypoint forever(): Promise<never> {
    return new Promise(() => {});
  }
}

async function withServer(
  run: (client: GawClient, port: number) => Promise<void>,
  options: ConstructorParameters<typeof GawClient>[0] = {},
): Promise<void> {
  const server = await startServer({}, MathService);
  const client = new GawClient({ port: server.address.port, ...options });
  try {
    await run(client, server.address.port);
  } finally {
    client.destroy();
    await server.close();
  }
}

test('call sends positional or named params and resolves to the result', () =>
  withServer(async (client) => {
    assert.equal(await client.call('math.plus', [10, 20]), 30);
    assert.equal(await client.call('math.plus', { a: 1, b: 2 }), 3);
  }));

test('the dynamic form client.services.math.plus(1, 2) calls math.plus and does not clash with the client', () =>
  withServer(async (client) => {
    assert.equal(await client.services.math!.plus!(1, 2), 3);
    const services = client.services as Record<string, any>;
    assert.equal(typeof services.close.plus, 'function', 'a service may be called close');
    assert.equal(services.math.then, undefined, 'a proxy is never mistaken for a promise');
    assert.equal(typeof client.close, 'function');
  }));

test("a remote error rejects with RemoteError carrying code, message, data and the caller's own stack", () =>
  withServer(async (client) => {
    async function callerThatDividesByZero(): Promise<unknown> {
      return await client.call('math.divide', [1, 0]);
    }
    await assert.rejects(callerThatDividesByZero(), (err: RemoteError) => {
      assert.ok(err instanceof RemoteError);
      assert.equal(err.code, 'GAW_ERR_REMOTE');
      assert.equal(err.rpcCode, 4000);
      assert.equal(err.message, 'division by zero');
      assert.deepEqual(err.data, { dividend: 1 });
      assert.match(err.stack ?? '', /callerThatDividesByZero/);
      return true;
    });
    async function proxyCaller(): Promise<unknown> {
      return await client.service<MathService>('math').divide(2, 0);
    }
    await assert.rejects(proxyCaller(), (err: RemoteError) => /proxyCaller/.test(err.stack ?? ''));
  }));

test("a timeout (of a call or a batch), a refused connection and an abort reject with the caller's own stack, the original kept as the cause", async () => {
  const server = await startServer({}, SlowService);
  const client = new GawClient({ port: server.address.port, retries: 0 });
  try {
    async function callerThatTimesOut(): Promise<unknown> {
      return await client.call('slow.wait', [], { timeoutMs: 30 });
    }
    await assert.rejects(callerThatTimesOut(), (err: GawError) => {
      assert.equal(err.code, 'GAW_ERR_CALL_TIMEOUT');
      assert.match(err.stack ?? '', /callerThatTimesOut/);
      assert.ok(err.cause instanceof Error);
      return true;
    });
    async function callerThatAborts(): Promise<unknown> {
      return await client.call('slow.wait', [], { signal: AbortSignal.timeout(20) });
    }
    await assert.rejects(
      callerThatAborts(),
      (err: GawError) => err.code === 'GAW_ERR_ABORTED' && /callerThatAborts/.test(err.stack ?? ''),
    );
    async function callerOfABatchThatTimesOut(): Promise<unknown> {
      return await client.batch([{ method: 'slow.wait' }], { timeoutMs: 30 });
    }
    await assert.rejects(
      callerOfABatchThatTimesOut(),
      (err: GawError) => err.code === 'GAW_ERR_CALL_TIMEOUT' && /callerOfABatchThatTimesOut/.test(err.stack ?? ''),
    );
  } finally {
    client.destroy();
    await server.close();
  }
  const refused = new GawClient({ port: await closedPort(), retries: 0 });
  async function callerOfAClosedPort(): Promise<unknown> {
    return await refused.call('slow.wait');
  }
  await assert.rejects(callerOfAClosedPort(), (err: ConnectionError) => {
    assert.equal(err.code, 'GAW_ERR_CONN_REFUSED');
    assert.equal(err.mayHaveReachedServer, false);
    assert.match(err.stack ?? '', /callerOfAClosedPort/);
    return true;
  });
  refused.destroy();
});

test("batch returns each call's outcome in order and skips notifications", () =>
  withServer(async (client) => {
    notified = new Gate();
    const results = await client.batch([
      { method: 'math.plus', params: [1, 2] },
      { method: 'math.remember', params: ['in a batch'], isNotification: true },
      { method: 'math.divide', params: [1, 0] },
      { method: 'math.nope' },
    ]);
    assert.equal(results.length, 3);
    assert.deepEqual(results[0], { ok: true, result: 3 });
    assert.equal(results[1]!.ok, false);
    assert.equal(!results[1]!.ok && results[1]!.error.rpcCode, 4000);
    assert.equal(!results[2]!.ok && results[2]!.error.rpcCode, rpcErrorCodes.METHOD_NOT_FOUND);
    await within(notified.promise, 5_000, 'the batched notification running');
    assert.deepEqual(notifiedWith, ['in a batch']);
    await assert.rejects(client.batch([]), (err: GawError) => err.code === 'GAW_ERR_INVALID_OPTION');
  }));

test('notify runs the method on the server and gets no reply', () =>
  withServer(async (client) => {
    notified = new Gate();
    await client.notify('math.remember', [1, 'two']);
    await within(notified.promise, 5_000, 'the notification running');
    assert.deepEqual(notifiedWith, [1, 'two']);
    assert.equal(client.pendingCount, 0);
  }));

test('a call past its timeout fails with GAW_ERR_CALL_TIMEOUT and releases its id and listener', () =>
  withServer(
    async (client) => {
      const controller = new AbortController();
      await assert.rejects(
        client.call('math.forever', [], { timeoutMs: 30, signal: controller.signal }),
        (err: GawError) => err.code === 'GAW_ERR_CALL_TIMEOUT',
      );
      assert.equal(client.pendingCount, 0);
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
      assert.equal(await client.call('math.plus', [1, 1], { signal: controller.signal }), 2);
      assert.equal(
        getEventListeners(controller.signal, 'abort').length,
        0,
        'a finished call removes its abort listener',
      );
    },
    { timeoutMs: 60_000 },
  ));

test('aborting a call rejects it with GAW_ERR_ABORTED at once, and an aborted signal never sends', () =>
  withServer(async (client) => {
    assert.equal(await client.call('math.plus', [0, 0]), 0, 'a connection is open');
    const controller = new AbortController();
    const call = client.call('math.forever', [], { signal: controller.signal });
    assert.equal(client.pendingCount, 1, 'the request went out on the open connection');
    controller.abort(new Error('user gave up'));
    await assert.rejects(call, (err: GawError) => err.code === 'GAW_ERR_ABORTED' && err.name === 'AbortError');
    assert.equal(client.pendingCount, 0);
    await assert.rejects(
      client.call('math.plus', [1, 2], { signal: AbortSignal.abort() }),
      (err: GawError) => err.code === 'GAW_ERR_ABORTED',
    );
    assert.equal(client.pendingCount, 0);
  }));

test('retries: 0 against a closed port fails at once with GAW_ERR_CONN_REFUSED, saying the request never left', async () => {
  const client = new GawClient({ port: await closedPort(), retries: 0, timeoutMs: 30_000 });
  try {
    await assert.rejects(client.call('math.plus', [1, 2]), (err: ConnectionError) => {
      assert.ok(err instanceof ConnectionError);
      assert.equal(err.code, 'GAW_ERR_CONN_REFUSED');
      assert.equal(err.mayHaveReachedServer, false);
      return true;
    });
  } finally {
    await client.close();
  }
});

test('a wrong secret fails with GAW_ERR_AUTH_FAILED, not a timeout, and is not retried', async () => {
  const server = await startServer({ secret: makeSecret(), encrypt: true }, MathService);
  const client = new GawClient({
    port: server.address.port,
    secret: makeSecret(),
    encrypt: true,
    retries: 5,
    timeoutMs: 60_000,
  });
  try {
    await assert.rejects(
      within(client.call('math.plus', [1, 2]), 10_000, 'the wrong-secret call failing'),
      (err: GawError) => {
        assert.equal(err.code, 'GAW_ERR_AUTH_FAILED');
        assert.match(err.message, /secret/);
        return true;
      },
    );
    assert.equal(server.connectionCount, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

test('a closed client refuses new calls with GAW_ERR_CLOSED; close() is idempotent', () =>
  withServer(async (client) => {
    assert.equal(await client.call('math.plus', [1, 2]), 3);
    const closing = client.close();
    assert.equal(client.close(), closing);
    await closing;
    await assert.rejects(client.call('math.plus', [1, 2]), (err: GawError) => err.code === 'GAW_ERR_CLOSED');
    await assert.rejects(client.notify('math.remember', []), (err: GawError) => err.code === 'GAW_ERR_CLOSED');
    assert.equal(client.connectionCount, 0);
  }));

test('bad options and bad params are refused with a message naming the problem', async () => {
  assert.throws(() => new GawClient({ endpoints: ['nohost'] }), /endpoint "nohost" is not host:port/);
  assert.throws(() => new GawClient({ retries: -2 }), /retries/);
  assert.throws(() => new GawClient({ poolSize: 0 }), /poolSize/);
  assert.throws(
    () => new GawClient({ encrypt: true }),
    (err: GawError) => err.code === 'GAW_ERR_BAD_SECRET',
  );
  const client = new GawClient({ port: 1 });
  await assert.rejects(client.call('', []), /method must be a non-empty string/);
  await assert.rejects(client.call('math.plus', 5 as never), /params must be an array/);
  await assert.rejects(client.callRaw('math.plus', 5 as never), /params must be an array/);
  for (const timeoutMs of [0, -5, 1.5, Number.NaN, Infinity]) {
    await assert.rejects(
      client.call('math.plus', [], { timeoutMs }),
      /timeoutMs must be an integer/,
      `timeoutMs ${timeoutMs}`,
    );
    await assert.rejects(client.service<MathService>('math', { timeoutMs }).plus(1, 2), /timeoutMs must be an integer/);
    await assert.rejects(client.batch([{ method: 'math.plus' }], { timeoutMs }), /timeoutMs must be an integer/);
  }
  assert.equal(client.connectionCount, 0, 'nothing was sent');
});

test('a timeout past the 2^31 - 1 ms a Node timer can hold does not fire early, with or without a signal', async () => {
  gate = new Gate();
  const server = await startServer({}, HeldService);
  const client = new GawClient({ port: server.address.port, timeoutMs: 2 ** 32 });
  try {
    // The first call finds no connection open and the second carries a signal: both take the retry
    // loop's path; the third is the fast path's first try on an open connection.
    arrivals = new Arrivals(3);
    const held = [
      client.call('held.wait'),
      client.call('held.wait', [], { signal: new AbortController().signal, timeoutMs: 2 ** 31 }),
    ];
    await until(() => arrivals.seen === 2, 'two held calls starting');
    held.push(client.call('held.wait'));
    await within(arrivals.all, 5_000, 'the third held call starting');
    // What is checked is that nothing happens: the calls stay in flight past a 1 ms timer.
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(client.pendingCount, 3);
    gate.open();
    assert.deepEqual(await Promise.all(held), ['done', 'done', 'done']);
  } finally {
    gate.open();
    client.destroy();
    await server.close();
  }
});

test('a server refusing the handshake as busy is retried until it has room, and with retries 0 the refusal says busy', async () => {
  const logger = capturingLogger();
  const server = await startServer({ maxConnections: 1, logger }, MathService);
  const holder = new GawClient({ port: server.address.port, poolSize: 1 });
  const patient = new GawClient({ port: server.address.port, retries: -1, baseDelayMs: 5, maxDelayMs: 20 });
  const impatient = new GawClient({ port: server.address.port, retries: 0 });
  try {
    assert.equal(await holder.call('math.plus', [1, 1]), 2);
    await assert.rejects(impatient.call('math.plus', [1, 2]), (err: GawError) => {
      assert.equal(err.code, 'GAW_ERR_HANDSHAKE_REJECTED');
      assert.match(err.message, /busy/);
      return true;
    });
    const waiting = patient.call('math.plus', [2, 3]);
    const rejections = () => logger.lines.filter((line) => line.msg === 'handshake rejected').length;
    await until(() => rejections() >= 2, 'the patient client being refused as busy');
    await holder.close();
    assert.equal(await within(waiting, 10_000, 'the retried call'), 5);
  } finally {
    holder.destroy();
    patient.destroy();
    impatient.destroy();
    await server.close();
  }
});
