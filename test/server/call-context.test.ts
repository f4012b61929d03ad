// The call context across three real hops (edge -> gateway -> downstream, each its own GawServer,
// each hop a GawClient call made inside a handler): the caller's deadline and cancellation reach
// the last handler's signal, errors keep their code and data through the gateway, an unreachable
// downstream gets its own code with no address in it, and the request id is the same in every
// server's log. Then peers that abuse the extension.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { GawClient } from '../../src/client/index.js';
import { callContext } from '../../src/context.js';
import { ServiceError } from '../../src/errors.js';
import { rpcErrorCodes } from '../../src/jsonrpc/index.js';
import { entrypoint } from '../../src/server/index.js';
import type { GawServer } from '../../src/server/index.js';
import { closedPort } from '../helpers/raw-socket.js';
import { capturingLogger, startServer, until } from '../helpers/server-fixtures.js';
import type { LogLine } from '../helpers/server-fixtures.js';

/** What the last hop saw of each `wait` call: when it started and when its signal aborted, and why. */
interface Seen {
  startedAt: number;
  abortedAt?: number;
  reason?: string;
}

/** One hop: forwards every call to `next` (after an await, so only AsyncLocalStorage can carry the context), or is the last hop. */
class Hop {
  static serviceName = 'hop';
  constructor(
    readonly next: GawClient | undefined,
    readonly seen: Seen[],
  ) {}

  @entrypoint
  async wait(ms: number): Promise<string> {
    await Promise.resolve();
    if (this.next !== undefined) return this.next.call('hop.wait', [ms]);
    const context = callContext();
    assert.ok(context !== undefined);
    const seen: Seen = { startedAt: performance.now() };
    this.seen.push(seen);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      context.signal.addEventListener('abort', () => {
        seen.abortedAt = performance.now();
        seen.reason = (context.signal.reason as { code?: string }).code;
        clearTimeout(timer);
        resolve();
      });
    });
    return 'finished';
  }

  @entrypoint
  async fail(): Promise<never> {
    await Promise.resolve();
    if (this.next !== undefined) return this.next.call('hop.fail');
    throw new ServiceError(4001, 'out of stock', { sku: 'x-1', left: 0 });
  }

  @entrypoint
  async ids(): Promise<unknown> {
    await Promise.resolve();
    if (this.next !== undefined) return this.next.call('hop.ids');
    const { requestId, traceparent, deadline, peer, method } = callContext()!;
    return { requestId, traceparent, hasDeadline: deadline !== undefined, peer, method };
  }
}

interface Chain {
  edge: GawServer;
  client: GawClient;
  seen: Seen[];
  logs: LogLine[][];
}

/** downstream <- gateway <- edge <- the test's client; `downstreamPort` overrides where the gateway calls. */
async function chain(t: TestContext, downstreamPort?: number): Promise<Chain> {
  const seen: Seen[] = [];
  const loggers = [capturingLogger(), capturingLogger(), capturingLogger()];
  const downstream = await startServer({ logger: loggers[2] }, [Hop, undefined, seen]);
  t.after(() => downstream.close());
  const toDownstream = new GawClient({ port: downstreamPort ?? downstream.address.port, retries: 0 });
  const gateway = await startServer({ logger: loggers[1] }, [Hop, toDownstream, seen]);
  t.after(() => gateway.close());
  const toGateway = new GawClient({ port: gateway.address.port });
  const edge = await startServer({ logger: loggers[0] }, [Hop, toGateway, seen]);
  t.after(() => edge.close());
  const client = new GawClient({ port: edge.address.port });
  t.after(() => {
    for (const c of [client, toGateway, toDownstream]) c.destroy();
  });
  return { edge, client, seen, logs: loggers.map((l) => l.lines) };
}

test("a caller's 300 ms deadline aborts the last hop's signal by 300 ms + 25 ms", async (t) => {
  const { client, seen } = await chain(t);
  await client.call('hop.wait', [1]); // every connection open: the measured call pays no dial
  seen.length = 0;
  const startedAt = performance.now();
  await assert.rejects(client.call('hop.wait', [5_000], { timeoutMs: 300 }), { code: 'GAW_ERR_CALL_TIMEOUT' });
  await until(() => seen[0]?.abortedAt !== undefined, 'the last hop saw its signal abort');
  const abortedAfterMs = seen[0]!.abortedAt! - startedAt;
  assert.ok(abortedAfterMs >= 250, `aborted after ${abortedAfterMs.toFixed(1)} ms: not before the deadline`);
  assert.ok(abortedAfterMs <= 325, `aborted ${abortedAfterMs.toFixed(1)} ms after the caller started`);
  assert.match(seen[0]!.reason!, /^GAW_ERR_(DEADLINE|ABORTED)$/);
});

test("a caller's abort reaches the last hop's signal", async (t) => {
  const { client, seen } = await chain(t);
  const controller = new AbortController();
  const call = client.call('hop.wait', [10_000], { signal: controller.signal });
  await until(() => seen.length === 1, 'the call reached the last hop');
  controller.abort();
  await assert.rejects(call, { code: 'GAW_ERR_ABORTED' });
  await until(() => seen[0]!.abortedAt !== undefined, 'the abort reached the last hop');
  assert.equal(seen[0]!.reason, 'GAW_ERR_ABORTED');
});

test('a downstream ServiceError reaches the caller through two hops with its code and data', async (t) => {
  const { client } = await chain(t);
  await assert.rejects(client.call('hop.fail'), (err: Error & { rpcCode?: number; data?: unknown }) => {
    assert.equal(err.rpcCode, 4001);
    assert.equal(err.message, 'out of stock');
    assert.deepEqual(err.data, { sku: 'x-1', left: 0 });
    return true;
  });
});

test('a downstream that is down answers "unavailable", with no address in what the caller sees', async (t) => {
  const port = await closedPort();
  const { client } = await chain(t, port);
  await assert.rejects(client.call('hop.ids'), (err: Error & { rpcCode?: number; data?: unknown }) => {
    assert.equal(err.rpcCode, rpcErrorCodes.UNAVAILABLE);
    const seenByCaller = `${err.message} ${JSON.stringify(err.data ?? null)}`;
    assert.doesNotMatch(seenByCaller, /127\.0\.0\.1|localhost/);
    assert.doesNotMatch(seenByCaller, new RegExp(String(port)));
    return true;
  });
});

test('the request id is the same on every hop and in every server log; the trace id follows, the span id changes', async (t) => {
  const { client, logs } = await chain(t);
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  // A root caller names its request; inside the hops the client passes it on.
  const got = (await client.call('hop.ids', [], { requestId: 'checkout-7', traceparent })) as Record<string, unknown>;
  assert.equal(got.requestId, 'checkout-7');
  assert.equal(got.method, 'hop.ids');
  assert.equal(got.hasDeadline, true, 'the budget travels: the last hop has a deadline');
  assert.match(String(got.peer), /^127\.0\.0\.1:\d+$/);
  for (const [i, lines] of logs.entries()) {
    const line = lines.find((l) => l.msg === 'rpc call' && l.obj.method === 'hop.ids');
    assert.ok(line, `server ${i} logged the call`);
    assert.equal(line.obj.requestId, 'checkout-7', `server ${i} logged the caller's request id`);
    assert.equal(line.obj.outcome, 'ok');
    assert.equal(typeof line.obj.durationMs, 'number');
  }
  const last = String(got.traceparent);
  assert.equal(last.slice(0, 36), traceparent.slice(0, 36), 'the same trace id and version');
  assert.notEqual(last.slice(36, 52), traceparent.slice(36, 52), 'each hop sends its own parent id');
  assert.equal(last.slice(52), '-01', 'the sampled flag is kept');
});
