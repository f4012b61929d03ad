// Server and client interceptors over real sockets: the order they run in, what they see of each
// call (names, params, context, peer), rejecting with a ServiceError, changing params and results,
// unknown methods and bad params seen as refusals, and bad interceptor options refused.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { GawClient } from '../../src/client/index.js';
import { callContext } from '../../src/context.js';
import { RemoteError, ServiceError, UsageError } from '../../src/errors.js';
import { rpcErrorCodes } from '../../src/jsonrpc/index.js';
import type { ClientInterceptor, ServerCall, ServerInterceptor } from '../../src/observe/index.js';
import { GawServer, entrypoint } from '../../src/server/index.js';
import { startServer } from '../helpers/server-fixtures.js';

class MathService {
  static serviceName = 'math_service';
  constructor(readonly counter = { calls: 0 }) {}

  @entrypoint plus(a: number, b: number): number {
    this.counter.calls++;
    return a + b;
  }

  @entrypoint async later(a: number): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return `${a}:${callContext()?.requestId}`;
  }
}

async function serve(t: TestContext, interceptors: ServerInterceptor[], counter = { calls: 0 }) {
  const server = await startServer({ interceptors }, [MathService, counter]);
  const client = new GawClient({ port: server.address.port, retries: 0 });
  t.after(() => Promise.all([client.close(), server.close()]));
  return { server, client };
}

test('server interceptors run in order around the handler and see its names, params, context and peer', async (t) => {
  const events: string[] = [];
  const seen: ServerCall[] = [];
  const outer: ServerInterceptor = (call, next) => {
    events.push(`outer in ${call.service}.${call.method}`);
    seen.push(call);
    const result = next();
    events.push('outer out');
    return result;
  };
  const inner: ServerInterceptor = (call, next) => {
    events.push(`inner in ${JSON.stringify(call.params)}`);
    const result = next();
    events.push(`inner out ${String(result)}`);
    return result;
  };
  const { client } = await serve(t, [outer, inner]);
  assert.equal(await client.call('math_service.plus', [1, 2], { requestId: 'req-1' }), 3);
  assert.deepEqual(events, ['outer in math_service.plus', 'inner in [1,2]', 'inner out 3', 'outer out']);
  const call = seen[0]!;
  assert.equal(call.requested, 'math_service.plus');
  assert.equal(call.isNotification, false);
  assert.equal(call.context.requestId, 'req-1');
  assert.equal(call.context.method, 'math_service.plus');
  assert.match(call.peer, /^127\.0\.0\.1:\d+$/);
});

test('a server interceptor can change the params and the result, also around an async handler', async (t) => {
  const doubling: ServerInterceptor = (call, next) => {
    if (Array.isArray(call.params)) call.params = call.params.map((v) => (v as number) * 2);
    const result = next();
    return result instanceof Promise ? result.then((r) => `[${String(r)}]`) : (result as number) + 1000;
  };
  const { client } = await serve(t, [doubling]);
  assert.equal(await client.call('math_service.plus', [1, 2]), 1006);
  assert.equal(await client.call('math_service.later', [4], { requestId: 'r-9' }), '[8:r-9]');
});

test('a server interceptor that throws a ServiceError rejects the call with its code and data; the handler never runs', async (t) => {
  const counter = { calls: 0 };
  const guard: ServerInterceptor = (call, next) => {
    if (call.context.requestId !== 'allowed') throw new ServiceError(4030, 'forbidden', { why: 'no token' });
    return next();
  };
  const { client } = await serve(t, [guard], counter);
  const err = await client.call('math_service.plus', [1, 2]).catch((e: unknown) => e);
  assert.ok(err instanceof RemoteError);
  assert.equal(err.rpcCode, 4030);
  assert.equal(err.message, 'forbidden');
  assert.deepEqual(err.data, { why: 'no token' });
  assert.equal(counter.calls, 0);
  assert.equal(await client.call('math_service.plus', [1, 2], { requestId: 'allowed' }), 3);
  assert.equal(counter.calls, 1);
});

test('unknown methods and bad params go through the chain as refusals with their usual codes', async (t) => {
  const outcomes: string[] = [];
  const recorder: ServerInterceptor = (call, next) => {
    try {
      const result = next();
      outcomes.push(`${call.service}.${call.method} ok`);
      return result;
    } catch (err) {
      outcomes.push(`${call.service}.${call.method} ${(err as ServiceError).rpcCode}`);
      throw err;
    }
  };
  const { client } = await serve(t, [recorder]);
  const missing = await client.call('math_service.nope', [1]).catch((e: unknown) => e);
  assert.ok(missing instanceof RemoteError);
  assert.equal(missing.rpcCode, rpcErrorCodes.METHOD_NOT_FOUND);
  const bad = await client.call('math_service.plus', { a: 1, c: 2 }).catch((e: unknown) => e);
  assert.ok(bad instanceof RemoteError);
  assert.equal(bad.rpcCode, rpcErrorCodes.INVALID_PARAMS);
  assert.equal(await client.call('rpc.ping'), 'pong');
  assert.deepEqual(outcomes, ['_OTHER._OTHER -32601', 'math_service.plus -32602', 'rpc.ping ok']);
});

test('client interceptors run in order around each call and can change params, ids and results, or reject', async (t) => {
  const seenRequestIds: string[] = [];
  const server = await startServer(
    {
      interceptors: [
        (call, next) => {
          seenRequestIds.push(call.context.requestId);
          return next();
        },
      ],
    },
    MathService,
  );
  const events: string[] = [];
  const first: ClientInterceptor = async (call, next) => {
    events.push(`first in ${call.service} ${call.method} ${call.peer === `127.0.0.1:${server.address.port}`}`);
    call.outgoing.requestId = 'from-interceptor';
    const result = await next();
    events.push('first out');
    return result;
  };
  const second: ClientInterceptor = async (call, next) => {
    if (call.method === 'later') throw new UsageError('GAW_ERR_INVALID_OPTION', 'later is not allowed here');
    call.params = [10, 20];
    return `${String(await next())}!`;
  };
  const client = new GawClient({ port: server.address.port, interceptors: [first, second], retries: 0 });
  t.after(() => Promise.all([client.close(), server.close()]));
  assert.equal(await client.call('math_service.plus', [1, 2]), '30!');
  assert.deepEqual(events, ['first in math_service plus true', 'first out']);
  assert.deepEqual(seenRequestIds, ['from-interceptor']);
  await assert.rejects(client.service<MathService>('math_service').later(1), /later is not allowed here/);
  assert.equal(seenRequestIds.length, 1, 'a call rejected by an interceptor never reaches the server');
});

test('interceptor options that are not a list of functions are refused, naming the problem', () => {
  assert.throws(
    () => new GawServer({ interceptors: [(() => 1) as never, 'x' as never] }),
    /interceptors\[1\] is a string/,
  );
  assert.throws(() => new GawServer({ interceptors: (() => 1) as never }), /interceptors must be an array/);
  assert.throws(() => new GawClient({ interceptors: [null as never] }), /interceptors\[0\] is a object/);
  assert.throws(() => new GawServer({ interceptor: [] } as never), /did you mean interceptors/);
});
