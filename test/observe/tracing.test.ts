// Traces over real sockets with the OpenTelemetry SDK's in-memory exporter: a client, a server
// whose handler calls a second server, and the HTTP bridge as the first hop: one trace, each span's
// parent the span of the hop before, error status and the JSON-RPC error code on a failing call;
// with no SDK registered nothing is recorded and the call context still carries the trace on.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { GawClient } from '../../src/client/index.js';
import { callContext } from '../../src/context.js';
import { RemoteError, ServiceError, UsageError } from '../../src/errors.js';
import { GawServer, entrypoint } from '../../src/server/index.js';
import type { GawServerOptions } from '../../src/server/index.js';
import type { TracingOption } from '../../src/observe/index.js';
import { startServer } from '../helpers/server-fixtures.js';

class StoreService {
  static serviceName = 'store';
  @entrypoint get(key: string): string {
    if (key === 'missing') throw new ServiceError(4040, `no such key: ${key}`);
    return `value of ${key}`;
  }

  @entrypoint crash(): never {
    throw new Error('disk on fire');
  }

  @entrypoint trace(): string | undefined {
    return callContext()?.traceparent;
  }
}

/** Server A's service: each call makes a call to server B, inside the handler. */
class FrontService {
  static serviceName = 'front';
  constructor(readonly store: GawClient) {}

  @entrypoint async lookup(key: string): Promise<string> {
    await new Promise((resolve) => setImmediate(resolve));
    return `front: ${await this.store.call('store.get', [key])}`;
  }

  @entrypoint syncLookup(key: string): Promise<unknown> {
    return this.store.call('store.get', [key]);
  }
}

function newProvider() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, provider };
}

/** Client -> server A (GAWP and its HTTP bridge) -> server B, each traced with `tracing`. */
async function threeHops(t: TestContext, tracing: TracingOption, options: GawServerOptions = {}) {
  const b = await startServer({ tracing }, StoreService);
  const toB = new GawClient({ port: b.address.port, retries: 0, tracing });
  const a = await startServer({ tracing, http: { port: 0 }, ...options }, [FrontService, toB]);
  const client = new GawClient({ port: a.address.port, retries: 0, tracing });
  t.after(async () => {
    await Promise.all([client.close(), toB.close()]);
    await Promise.all([a.close(), b.close()]);
  });
  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`http://127.0.0.1:${a.httpAddress!.port}/api`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return res.json() as Promise<{ result?: unknown; error?: { code: number } }>;
  };
  return { client, post };
}

function byName(spans: ReadableSpan[], name: string, kind: SpanKind): ReadableSpan {
  const found = spans.filter((span) => span.name === name && span.kind === kind);
  assert.equal(found.length, 1, `one ${SpanKind[kind]} span ${name} in ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
}

/** Asserts each span is the child of the one before it, all in one trace; returns the trace id. */
function assertChain(chain: ReadableSpan[]): string {
  const traceId = chain[0]!.spanContext().traceId;
  for (const span of chain) assert.equal(span.spanContext().traceId, traceId, `${span.name} in the trace`);
  for (let i = 1; i < chain.length; i++)
    assert.equal(chain[i]!.parentSpanContext?.spanId, chain[i - 1]!.spanContext().spanId, `${chain[i]!.name}'s parent`);
  return traceId;
}

test('a call through a server that calls another server is one trace of four spans, each the child of the hop before', async (t) => {
  const { exporter, provider } = newProvider();
  const { client } = await threeHops(t, { tracerProvider: provider });
  assert.equal(await client.call('front.lookup', ['k1'], { requestId: 'req-7' }), 'front: value of k1');
  const spans = exporter.getFinishedSpans();
  assert.equal(spans.length, 4);
  const chain = [
    byName(spans, 'front/lookup', SpanKind.CLIENT),
    byName(spans, 'front/lookup', SpanKind.SERVER),
    byName(spans, 'store/get', SpanKind.CLIENT),
    byName(spans, 'store/get', SpanKind.SERVER),
  ];
  assertChain(chain);
  assert.equal(chain[0]!.parentSpanContext, undefined, 'the first client span is a root');
  for (const span of chain) {
    assert.equal(span.status.code, SpanStatusCode.UNSET, span.name);
    assert.equal(span.attributes['rpc.system'], 'jsonrpc');
    assert.equal(span.attributes['rpc.jsonrpc.version'], '2.0');
    assert.equal(span.attributes['gaw.request_id'], 'req-7', `${span.name}: the request id follows the hops`);
  }
  const [, serverA, , serverB] = chain;
  assert.equal(serverA!.attributes['rpc.service'], 'front');
  assert.equal(serverA!.attributes['rpc.method'], 'lookup');
  assert.equal(serverB!.attributes['rpc.service'], 'store');
  assert.equal(serverB!.attributes['rpc.method'], 'get');
  assert.match(String(serverB!.attributes['rpc.jsonrpc.request_id']), /^\d+$/);
  assert.equal(serverB!.attributes['network.peer.address'], '127.0.0.1');
  assert.equal(chain[0]!.attributes['server.address'], '127.0.0.1');
  for (const span of spans)
    assert.ok(!Object.values(span.attributes).some((value) => String(value).includes('k1')), 'no params in attributes');

  // A synchronous handler (no AsyncLocalStorage around it) links its calls the same way.
  exporter.reset();
  assert.equal(await client.call('front.syncLookup', ['k3']), 'value of k3');
  const again = exporter.getFinishedSpans();
  assertChain([
    byName(again, 'front/syncLookup', SpanKind.CLIENT),
    byName(again, 'front/syncLookup', SpanKind.SERVER),
    byName(again, 'store/get', SpanKind.CLIENT),
    byName(again, 'store/get', SpanKind.SERVER),
  ]);
});

test('the HTTP bridge is a hop: its traceparent header is the server span’s parent, and the trace goes on to server B', async (t) => {
  const { exporter, provider } = newProvider();
  const { post } = await threeHops(t, { tracerProvider: provider });
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpanId = '00f067aa0ba902b7';
  const reply = await post(
    { jsonrpc: '2.0', id: 'web-1', method: 'front.lookup', params: ['k2'] },
    { traceparent: `00-${traceId}-${callerSpanId}-01`, tracestate: 'vendor=abc' },
  );
  assert.equal(reply.result, 'front: value of k2');
  const spans = exporter.getFinishedSpans();
  const chain = [
    byName(spans, 'front/lookup', SpanKind.SERVER),
    byName(spans, 'store/get', SpanKind.CLIENT),
    byName(spans, 'store/get', SpanKind.SERVER),
  ];
  assert.equal(assertChain(chain), traceId);
  assert.equal(chain[0]!.parentSpanContext?.spanId, callerSpanId);
  assert.equal(chain[0]!.parentSpanContext?.isRemote, true);
  assert.equal(chain[0]!.attributes['rpc.jsonrpc.request_id'], 'web-1');
  assert.equal(chain[2]!.spanContext().traceState?.get('vendor'), 'abc', 'tracestate follows the trace');
});

test('a failing call marks every span of its trace as an error with the JSON-RPC error code and message', async (t) => {
  const { exporter, provider } = newProvider();
  const { client } = await threeHops(t, { tracerProvider: provider });
  const err = await client.call('front.lookup', ['missing']).catch((e: unknown) => e);
  assert.ok(err instanceof RemoteError);
  assert.equal(err.rpcCode, 4040);
  const spans = exporter.getFinishedSpans();
  assert.equal(spans.length, 4);
  for (const span of spans) {
    assert.equal(span.status.code, SpanStatusCode.ERROR, `${span.name} ${SpanKind[span.kind]}`);
    assert.equal(span.attributes['rpc.jsonrpc.error_code'], 4040);
    assert.equal(span.attributes['rpc.jsonrpc.error_message'], 'no such key: missing');
  }
  assert.equal(new Set(spans.map((span) => span.spanContext().traceId)).size, 1);
});

test('unknown methods and unexpected errors are error spans too: _OTHER with the name asked for, -32000', async (t) => {
  const { exporter, provider } = newProvider();
  const server = await startServer({ tracing: { tracerProvider: provider } }, StoreService);
  const client = new GawClient({ port: server.address.port, retries: 0 });
  t.after(() => Promise.all([client.close(), server.close()]));
  await assert.rejects(client.call('store.nope', []), (e: unknown) => e instanceof RemoteError && e.rpcCode === -32601);
  await assert.rejects(
    client.call('store.crash', []),
    (e: unknown) => e instanceof RemoteError && e.rpcCode === -32000,
  );
  const [unknown, crash] = exporter.getFinishedSpans();
  assert.equal(unknown!.name, '_OTHER/_OTHER');
  assert.equal(unknown!.attributes['rpc.method_original'], 'store.nope');
  assert.equal(unknown!.attributes['rpc.jsonrpc.error_code'], -32601);
  assert.equal(unknown!.status.code, SpanStatusCode.ERROR);
  assert.equal(crash!.name, 'store/crash');
  assert.equal(crash!.attributes['rpc.jsonrpc.error_code'], -32000);
  assert.equal(crash!.attributes['error.type'], 'Error');
  assert.equal(crash!.status.code, SpanStatusCode.ERROR);
  assert.equal(crash!.events[0]?.name, 'exception', 'the server span records the unexpected error');
});

test('with no SDK registered, tracing: true records nothing and the call context still carries the trace', async (t) => {
  const b = await startServer({ tracing: true }, StoreService);
  const client = new GawClient({ port: b.address.port, retries: 0, tracing: true });
  t.after(() => Promise.all([client.close(), b.close()]));
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  assert.equal(await client.call('store.trace', [], { traceparent }), traceparent);
  assert.equal(await client.call('store.get', ['x']), 'value of x');
});

test('with a globally registered SDK and context manager, tracing: true records, and a span of the handler’s own nests', async (t) => {
  const { exporter, provider } = newProvider();
  const manager = new AsyncLocalStorageContextManager().enable();
  assert.equal(context.setGlobalContextManager(manager), true);
  assert.equal(trace.setGlobalTracerProvider(provider), true);
  t.after(() => {
    trace.disable();
    context.disable();
  });
  class Own {
    static serviceName = 'own';
    @entrypoint async work(): Promise<string> {
      const span = trace.getTracer('app').startSpan('app work');
      span.end();
      return 'done';
    }
  }
  const server = await startServer({ tracing: true }, Own);
  const client = new GawClient({ port: server.address.port, retries: 0, tracing: true });
  t.after(() => Promise.all([client.close(), server.close()]));
  assert.equal(await client.call('own.work'), 'done');
  const spans = exporter.getFinishedSpans();
  assertChain([
    byName(spans, 'own/work', SpanKind.CLIENT),
    byName(spans, 'own/work', SpanKind.SERVER),
    byName(spans, 'app work', SpanKind.INTERNAL),
  ]);
});

test('a bad tracing option is refused, naming what it takes', () => {
  assert.throws(
    () => new GawServer({ tracing: 'yes' as unknown as boolean }),
    (e: unknown) => e instanceof UsageError && /tracing must be true, false or \{ tracerProvider \}/.test(e.message),
  );
  assert.throws(
    () => new GawClient({ tracing: { provider: {} } as unknown as TracingOption }),
    (e: unknown) => e instanceof UsageError && /unknown key "provider"/.test(e.message),
  );
  assert.throws(() => new GawClient({ tracing: { tracerProvider: {} } as unknown as TracingOption }), UsageError);
});
