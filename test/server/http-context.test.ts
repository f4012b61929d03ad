// The call context over the HTTP bridge: Gaw-Timeout-Ms gives the handler a deadline, X-Request-Id
// is echoed and kept, traceparent reaches the handler and, as a child, the gaw service it calls;
// a client that hangs up aborts the handler's signal. Real sockets: node:http requests to a real
// bridge whose handler calls a second GawServer.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { GawClient } from '../../src/client/index.js';
import { callContext } from '../../src/context.js';
import { entrypoint } from '../../src/server/index.js';
import { startServer, until } from '../helpers/server-fixtures.js';

interface Seen {
  requestId?: string;
  traceparent?: string | undefined;
  remainingMs?: number;
  abortCode?: string;
}

class Back {
  static serviceName = 'back';
  constructor(readonly seen: Seen[]) {}

  @entrypoint
  async look(): Promise<Seen> {
    await Promise.resolve();
    const c = callContext()!;
    const seen = { requestId: c.requestId, traceparent: c.traceparent, remainingMs: c.remainingMs() };
    this.seen.push(seen);
    return seen;
  }
}

class Front {
  static serviceName = 'front';
  constructor(
    readonly back: GawClient,
    readonly seen: Seen[],
  ) {}

  @entrypoint
  async relay(): Promise<unknown> {
    await Promise.resolve();
    return this.back.call('back.look');
  }

  @entrypoint
  async wait(): Promise<string> {
    const c = callContext()!;
    const seen: Seen = { remainingMs: c.remainingMs() };
    this.seen.push(seen);
    await new Promise<void>((resolve) =>
      c.signal.addEventListener('abort', () => {
        seen.abortCode = (c.signal.reason as { code?: string }).code;
        resolve();
      }),
    );
    return 'stopped';
  }
}

async function bridge(t: TestContext) {
  const seen: Seen[] = [];
  const back = await startServer({}, [Back, seen]);
  t.after(() => back.close());
  const client = new GawClient({ port: back.address.port });
  t.after(() => client.destroy());
  const front = await startServer({ http: { port: 0 } }, [Front, client, seen]);
  t.after(() => front.close());
  return { port: front.httpAddress!.port, seen };
}

function post(
  port: number,
  method: string,
  headers: Record<string, string>,
): { done: Promise<{ status: number; headers: Record<string, unknown>; body: any }>; abort: () => void } {
  const req = request({
    host: '127.0.0.1',
    port,
    path: '/api',
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
  });
  const done = new Promise<{ status: number; headers: Record<string, unknown>; body: any }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: JSON.parse(Buffer.concat(chunks).toString()),
        }),
      );
    });
    req.on('error', reject);
  });
  req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method }));
  return { done, abort: () => req.destroy() };
}

test('traceparent, X-Request-Id and Gaw-Timeout-Ms go from an HTTP caller through the bridge to the next gaw hop', async (t) => {
  const { port, seen } = await bridge(t);
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const { status, headers, body } = await post(port, 'front.relay', {
    traceparent,
    'X-Request-Id': 'web-123',
    'Gaw-Timeout-Ms': '5000',
  }).done;
  assert.equal(status, 200);
  assert.equal(headers['x-request-id'], 'web-123', 'the request id is echoed');
  assert.equal(body.result.requestId, 'web-123', 'and reaches the next hop');
  assert.equal(body.result.traceparent.slice(0, 36), traceparent.slice(0, 36), 'the same trace');
  assert.notEqual(body.result.traceparent, traceparent, 'a new parent id for the next hop');
  assert.ok(body.result.remainingMs > 0 && body.result.remainingMs <= 5_000, 'the budget went on');
  assert.equal(seen.length, 1);
});

test("Gaw-Timeout-Ms aborts the handler's signal at the deadline; a client that hangs up aborts it too", async (t) => {
  const { port, seen } = await bridge(t);
  const timed = post(port, 'front.wait', { 'Gaw-Timeout-Ms': '100' });
  await until(() => seen[0]?.abortCode !== undefined, 'the deadline reached the handler');
  assert.equal(seen[0]!.abortCode, 'GAW_ERR_DEADLINE');
  assert.ok(seen[0]!.remainingMs! <= 100);
  assert.equal((await timed.done).body.result, 'stopped');

  const gone = post(port, 'front.wait', {});
  await until(() => seen.length === 2, 'the second call started');
  gone.abort();
  await gone.done.catch(() => undefined);
  await until(() => seen[1]!.abortCode !== undefined, 'the hang-up reached the handler');
  assert.equal(seen[1]!.abortCode, 'GAW_ERR_CONN_CLOSED');
});

test('a malformed Gaw-Timeout-Ms is refused with 400 and a JSON-RPC error, and nothing runs', async (t) => {
  const { port, seen } = await bridge(t);
  for (const value of ['-1', 'soon', '1.5', '99999999999']) {
    const { status, body } = await post(port, 'front.wait', { 'Gaw-Timeout-Ms': value }).done;
    assert.equal(status, 400, value);
    assert.equal(body.id, null);
    assert.match(body.error.message, /Gaw-Timeout-Ms/);
  }
  assert.equal(seen.length, 0);
});
