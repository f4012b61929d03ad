// GawClient's connections against real servers: 10,000 concurrent calls spread over a pool of 4,
// idle connections closed after connectionLifetimeMs, a server's CLOSE moving new calls to a new
// connection while in-flight ones finish, and failover when one of two endpoints is killed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawClient } from '../../src/client/index.js';
import { entrypoint } from '../../src/server/index.js';
import { ConnectionError } from '../../src/errors.js';
import type { GawError } from '../../src/errors.js';
import { RawServer } from '../helpers/raw-socket.js';
import {
  ChildServer,
  Gate,
  type LabelService,
  startServer,
  until,
  within,
  Arrivals,
} from '../helpers/server-fixtures.js';

let gate = new Gate();
let arrivals = new Arrivals(0);

class EchoService {
  static serviceName = 'echo';
  readonly #label: string;
  constructor(label: string) {
    this.#label = label;
  }
  @entrypoint square(n: number): number {
    return n * n;
  }
  @entrypoint async held(): Promise<string> {
    arrivals.arrive();
    await gate.promise;
    return this.#label;
  }
  @entrypoint whoami(): string {
    return this.#label;
  }
}

test('10,000 concurrent calls over a pool of 4 all get their own results and use all 4 connections', async () => {
  const server = await startServer({}, [EchoService, 'a']);
  const client = new GawClient({ port: server.address.port, poolSize: 4 });
  try {
    const calls = Array.from({ length: 10_000 }, (_, i) => client.call<number>('echo.square', [i]));
    const results = await within(Promise.all(calls), 30_000, '10,000 results');
    for (let i = 0; i < results.length; i++) assert.equal(results[i], i * i);
    assert.equal(client.connectionCount, 4);
    assert.equal(server.connectionCount, 4);
    assert.equal(client.pendingCount, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

test('an idle connection is closed after connectionLifetimeMs and a later call opens a new one', async () => {
  const server = await startServer({}, [EchoService, 'a']);
  const client = new GawClient({ port: server.address.port, connectionLifetimeMs: 50 });
  try {
    assert.equal(await client.call('echo.square', [3]), 9);
    assert.equal(client.connectionCount, 1);
    await until(
      () => client.connectionCount === 0 && server.connectionCount === 0,
      'the idle connection closing on both sides',
    );
    assert.equal(await client.call('echo.square', [4]), 16);
    assert.equal(client.connectionCount, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

test('a connection with a call in flight is not closed for idleness', async () => {
  gate = new Gate();
  arrivals = new Arrivals(1);
  const server = await startServer({}, [EchoService, 'a']);
  const client = new GawClient({ port: server.address.port, connectionLifetimeMs: 20, poolSize: 1 });
  try {
    const held = client.call<string>('echo.held');
    await within(arrivals.all, 5_000, 'the held call starting');
    // What is checked is that nothing happens: five lifetimes pass with the call in flight.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(client.connectionCount, 1);
    assert.equal(server.connectionCount, 1);
    gate.open();
    assert.equal(await held, 'a');
  } finally {
    gate.open();
    await client.close();
    await server.close();
  }
});

test("a server's CLOSE moves new calls to a new connection while the call in flight finishes on the old one", async () => {
  gate = new Gate();
  arrivals = new Arrivals(1);
  const first = await startServer({}, [EchoService, 'first']);
  const port = first.address.port;
  const client = new GawClient({ port, poolSize: 1, retries: 3 });
  let second: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    const held = client.call<string>('echo.held');
    await within(arrivals.all, 5_000, 'the held call starting');
    const closing = first.close();
    second = await startServer({ port }, [EchoService, 'second']);
    assert.equal(await client.call('echo.whoami'), 'second', 'a new call goes to a new connection');
    gate.open();
    assert.equal(await held, 'first', 'the call in flight is answered by the server that took it');
    await within(closing, 5_000, 'the first server finishing its close');
    await until(() => client.connectionCount === 1, 'the client forgetting the drained connection');
    assert.equal(await client.call('echo.whoami'), 'second');
  } finally {
    gate.open();
    await client.close();
    await first.close();
    await second?.close();
  }
});

test('with two endpoints, calls are spread over both and fail over when one is killed', async () => {
  const a = await ChildServer.start('a');
  const b = await ChildServer.start('b');
  const client = new GawClient({ endpoints: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], retries: 3, poolSize: 1 });
  try {
    const before = await Promise.all(Array.from({ length: 20 }, () => client.call<string>('label.whoami')));
    assert.deepEqual(new Set(before), new Set(['a', 'b']), 'both endpoints serve calls');
    await a.kill();
    const label = client.service<LabelService>('label', { idempotent: ['whoami'] });
    const idempotent = Array.from({ length: 20 }, () => label.whoami());
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => client.call<string>('label.whoami')));
    assert.deepEqual(await Promise.all(idempotent), Array(20).fill('b'), 'idempotent calls fail over without an error');
    for (const outcome of outcomes) {
      // A call already on the killed connection may fail, and must say so; none is lost.
      if (outcome.status === 'rejected') {
        assert.ok(outcome.reason instanceof ConnectionError, String(outcome.reason));
      } else {
        assert.equal(outcome.value, 'b');
      }
    }
    const after = await Promise.all(Array.from({ length: 20 }, () => client.call<string>('label.whoami')));
    assert.deepEqual(new Set(after), new Set(['b']), 'every call goes to the live endpoint');
  } finally {
    client.destroy();
    await a.kill();
    await b.kill();
  }
});

test("after the server's CLOSE, a connection whose last call timed out is ended by the client at once", async () => {
  gate = new Gate();
  arrivals = new Arrivals(1);
  const server = await startServer({ closeTimeoutMs: 20_000 }, [EchoService, 'a']);
  const client = new GawClient({ port: server.address.port, poolSize: 1, retries: 0 });
  try {
    const held = client.call('echo.held', [], { timeoutMs: 200 });
    held.catch(() => {});
    await within(arrivals.all, 5_000, 'the held call starting');
    const closing = server.close();
    await assert.rejects(held, (err: GawError) => err.code === 'GAW_ERR_CALL_TIMEOUT');
    // The server waits for the client to leave (up to closeTimeoutMs); the client leaves now.
    await within(closing, 5_000, 'the server closing once the client left');
    await until(() => client.connectionCount === 0, 'the client forgetting the connection');
  } finally {
    gate.open();
    client.destroy();
    await server.close();
  }
});

test('client.close() lets calls in flight finish, refuses new ones, then closes its connections', async () => {
  gate = new Gate();
  arrivals = new Arrivals(2);
  const server = await startServer({}, [EchoService, 'a']);
  const client = new GawClient({ port: server.address.port, poolSize: 1 });
  try {
    const held = [client.call<string>('echo.held'), client.call<string>('echo.held')];
    await within(arrivals.all, 5_000, 'both held calls starting');
    const closing = client.close();
    await assert.rejects(client.call('echo.square', [2]), (err: GawError) => err.code === 'GAW_ERR_CLOSED');
    gate.open();
    assert.deepEqual(await Promise.all(held), ['a', 'a']);
    await within(closing, 5_000, 'the client closing');
    assert.equal(client.connectionCount, 0);
    await until(() => server.connectionCount === 0, 'the server seeing the client leave');
  } finally {
    gate.open();
    client.destroy();
    await server.close();
  }
});

test('a down endpoint is backed off rather than dialed for every call, while the live one serves them all', async () => {
  const live = await startServer({}, [EchoService, 'live']);
  // Accepts TCP and hangs up at once: each dial there is one accept, and fails before any request.
  const dead = await RawServer.start();
  let dials = 0;
  const counting = (async () => {
    for (;;) {
      const socket = await dead.accept();
      dials++;
      socket.destroy();
    }
  })();
  counting.catch(() => {});
  const client = new GawClient({
    endpoints: [`127.0.0.1:${dead.port}`, `127.0.0.1:${live.address.port}`],
    poolSize: 1,
    retries: 3,
  });
  try {
    for (let i = 0; i < 200; i++) assert.equal(await client.call('echo.whoami'), 'live');
    assert.ok(dials >= 1, 'the dead endpoint was tried');
    assert.ok(dials <= 10, `the dead endpoint was dialed ${dials} times for 200 calls`);
  } finally {
    client.destroy();
    await dead.close();
    await live.close();
  }
});

/** Hosted in-process under the child server's service name, so one method name reaches both. */
class HeldLabelService {
  static serviceName = 'label';
  @entrypoint async hang(): Promise<string> {
    arrivals.arrive();
    await gate.promise;
    return 'in-process';
  }
}

test('a connection that dies rejects exactly the calls that were on it, saying they may have run', async () => {
  gate = new Gate();
  const doomed = await ChildServer.start('doomed');
  const healthy = await startServer({}, HeldLabelService);
  const client = new GawClient({
    endpoints: [`127.0.0.1:${doomed.port}`, `127.0.0.1:${healthy.address.port}`],
    poolSize: 1,
    retries: 3,
  });
  try {
    // One call each first, so both endpoints have a connection and calls alternate between them.
    await Promise.allSettled([client.call('label.echo', [1]), client.call('label.echo', [2])]);
    await until(() => client.connectionCount === 2, 'a connection to each endpoint');
    arrivals = new Arrivals(10);
    const calls = Array.from({ length: 20 }, () => client.call<string>('label.hang'));
    for (const call of calls) call.catch(() => {});
    await within(arrivals.all, 5_000, 'half the calls reaching the in-process server');
    await doomed.kill();
    gate.open();
    const served = await Promise.allSettled(calls);
    let rejected = 0;
    for (const outcome of served) {
      if (outcome.status === 'fulfilled') {
        assert.equal(outcome.value, 'in-process');
      } else {
        rejected++;
        const err = outcome.reason as ConnectionError;
        assert.ok(err instanceof ConnectionError, String(err));
        assert.equal(err.code, 'GAW_ERR_CONN_CLOSED');
        assert.equal(err.mayHaveReachedServer, true);
      }
    }
    assert.equal(rejected, 10, 'the ten calls on the killed connection, and only they, failed');
  } finally {
    gate.open();
    client.destroy();
    await doomed.kill();
    await healthy.close();
  }
});
