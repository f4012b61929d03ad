// gaw/browser's client over HTTP POST, run in Node (fetch is the same API) against the bridge of
// an encrypted server over real sockets: calls, notifications, batches, typed proxies, class tags
// through the portable registry, timeouts and aborts that reach the handler, a wrong token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawBrowserClient, Registry, RemoteError } from '../../src/browser/index.js';
import type { Remote } from '../../src/browser/index.js';
import { callContext } from '../../src/context.js';
import { AbortError, ConnectionError, TimeoutError } from '../../src/errors.js';
import { register } from '../../src/serializable/index.js';
import { ServiceError } from '../../src/errors.js';
import { entrypoint } from '../../src/server/service.js';
import { Gate, makeSecret, startServer, until, within } from '../helpers/server-fixtures.js';

class Point {
  constructor(
    public x = 0,
    public y = 0,
  ) {}
}
register(Point, { tag: 'BrowserHttpPoint' });

const seen = { notes: [] as string[], started: [] as string[], aborted: [] as string[], budgets: [] as number[] };
let gate = new Gate();

class Geometry {
  static serviceName = 'geometry';
  @entrypoint add(a: number, b: number) {
    return a + b;
  }
  @entrypoint mirror(p: Point) {
    return new Point(p.y, p.x);
  }
  @entrypoint note(text: string) {
    seen.notes.push(text);
  }
  @entrypoint fail() {
    throw new ServiceError(1001, 'no such shape', { shape: 'hexagon' });
  }
  @entrypoint async wait(label: string) {
    const signal = callContext()!.signal;
    seen.started.push(label);
    seen.budgets.push(callContext()!.remainingMs());
    signal.addEventListener('abort', () => seen.aborted.push(label));
    await Promise.race([gate.promise, new Promise((resolve) => signal.addEventListener('abort', resolve))]);
    return label;
  }
}

const token = 'browser-http-token';

async function setUp() {
  const server = await startServer({ secret: makeSecret(), encrypt: true, http: { port: 0, token } }, Geometry);
  const url = `http://127.0.0.1:${server.httpAddress!.port}/api`;
  const registry = new Registry().register(Point, { tag: 'BrowserHttpPoint' });
  return { server, url, client: new GawBrowserClient({ url, token, registry, timeoutMs: 5_000 }) };
}

test('call, named params, a typed proxy and class tags through the portable registry', async () => {
  const { server, client } = await setUp();
  try {
    assert.equal(await client.call('geometry.add', [1, 2]), 3);
    assert.equal(await client.call('geometry.add', { a: 5, b: 6 }), 11);
    const geometry: Remote<Geometry> = client.service<Geometry>('geometry');
    assert.equal(await geometry.add(10, 20), 30);
    const mirrored = await geometry.mirror(new Point(1, 2));
    assert.ok(mirrored instanceof Point, 'a registered class arrives as itself');
    assert.deepEqual({ ...mirrored }, { x: 2, y: 1 });
    assert.equal(await geometry.add.with({ timeoutMs: 1_000 })(2, 2), 4);
    assert.equal(await client.services.geometry!.add!(3, 3), 6);
    assert.throws(() => geometry.add.with({ timeout: 5 } as never), /unknown call option "timeout"/);
  } finally {
    client.close();
    await server.close();
  }
});

test('errors arrive as RemoteError with their code and data; notify runs without a reply; a batch keeps order', async () => {
  const { server, client } = await setUp();
  try {
    await assert.rejects(
      client.call('geometry.fail'),
      (err: unknown) => err instanceof RemoteError && err.rpcCode === 1001 && (err.data as any).shape === 'hexagon',
    );
    await assert.rejects(
      client.call('geometry.nope'),
      (err: unknown) => err instanceof RemoteError && err.rpcCode === -32601,
    );
    seen.notes = [];
    await client.notify('geometry.note', ['hello']);
    assert.deepEqual(seen.notes, ['hello'], 'the notification ran before the 204');
    const results = await client.batch([
      { method: 'geometry.add', params: [1, 1] },
      { method: 'geometry.note', params: ['in a batch'], isNotification: true },
      { method: 'geometry.fail' },
      { method: 'geometry.add', params: [2, 2] },
    ]);
    assert.deepEqual(
      results.map((r) => (r.ok ? r.result : r.error.rpcCode)),
      [2, 1001, 4],
    );
    assert.deepEqual(seen.notes, ['hello', 'in a batch']);
  } finally {
    client.close();
    await server.close();
  }
});

test('a call past its timeout rejects with GAW_ERR_CALL_TIMEOUT, sends its budget, and the handler’s signal aborts', async () => {
  const { server, client } = await setUp();
  try {
    gate = new Gate();
    seen.aborted = [];
    seen.budgets = [];
    await assert.rejects(
      client.call('geometry.wait', ['slow'], { timeoutMs: 150 }),
      (err: unknown) =>
        err instanceof TimeoutError && err.code === 'GAW_ERR_CALL_TIMEOUT' && /150 ms/.test(err.message),
    );
    const budget = seen.budgets[0]!;
    assert.ok(budget <= 150 && budget > 0, `the handler saw a deadline ${budget} ms away`);
    await until(() => seen.aborted.includes('slow'), 'the handler was told the caller left');
  } finally {
    gate.open();
    client.close();
    await server.close();
  }
});

test('an AbortSignal rejects the call with AbortError (before sending, or in flight: the handler is told)', async () => {
  const { server, client } = await setUp();
  try {
    gate = new Gate();
    seen.aborted = [];
    await assert.rejects(
      client.call('geometry.wait', ['never sent'], { signal: AbortSignal.abort() }),
      (err: unknown) => err instanceof AbortError && err.code === 'GAW_ERR_ABORTED',
    );
    assert.ok(!seen.started.includes('never sent'), 'an aborted call is never sent');
    const controller = new AbortController();
    const call = client.call('geometry.wait', ['in flight'], { signal: controller.signal });
    await until(() => seen.started.includes('in flight'), 'the call reached the handler');
    controller.abort();
    await assert.rejects(call, (err: unknown) => err instanceof AbortError);
    await within(
      until(() => seen.aborted.includes('in flight'), 'the handler was told'),
      6_000,
      'the abort reaching the handler',
    );
  } finally {
    gate.open();
    client.close();
    await server.close();
  }
});

test('a wrong token is a RemoteError -32600 with httpStatus 401; an unreachable bridge is a ConnectionError', async () => {
  const { server, url } = await setUp();
  const wrong = new GawBrowserClient({ url, token: 'not-the-token' });
  try {
    await assert.rejects(
      wrong.call('geometry.add', [1, 2]),
      (err: unknown) =>
        err instanceof RemoteError && err.rpcCode === -32600 && (err.data as { httpStatus: number }).httpStatus === 401,
    );
  } finally {
    await server.close();
  }
  await assert.rejects(wrong.call('geometry.add', [1, 2]), (err: unknown) => err instanceof ConnectionError);
  assert.throws(() => new GawBrowserClient({ url: 'ftp://x/api' }), /url must start with http/);
  assert.throws(() => new GawBrowserClient({ url, token: 'a b' }), /token must be/);
});
