// `gaw bridge` carries the HTTP request's context on to the server behind it: Gaw-Timeout-Ms
// becomes the downstream handler's deadline (its signal aborts when it passes), X-Request-Id its
// request id, traceparent a child in the same trace. The bridge is a real `gaw bridge` process; the
// server behind it is an encrypted GawServer in this process, so the test can see what the handler saw.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSecret } from '../../src/cli/index.js';
import { callContext } from '../../src/context.js';
import { entrypoint, GawServer } from '../../src/server/index.js';
import { useFixtureModules } from './fixture-modules.js';
import { startGaw } from './run-gaw.js';

const secret = generateSecret();
const token = 'bridge-context-token';
const fx = useFixtureModules(secret, generateSecret(), token);

interface Seen {
  requestId: string;
  traceparent: string | undefined;
  remainingMs: number;
  abortCode?: string;
}

const seen: Seen[] = [];

class Back {
  static serviceName = 'back';

  @entrypoint
  async look(): Promise<Seen> {
    await Promise.resolve();
    const c = callContext()!;
    const one: Seen = { requestId: c.requestId, traceparent: c.traceparent, remainingMs: c.remainingMs() };
    seen.push(one);
    return one;
  }

  @entrypoint
  async wait(): Promise<string> {
    const c = callContext()!;
    const one: Seen = { requestId: c.requestId, traceparent: c.traceparent, remainingMs: c.remainingMs() };
    seen.push(one);
    await new Promise<void>((resolve) =>
      c.signal.addEventListener('abort', () => {
        one.abortCode = (c.signal.reason as { code?: string }).code;
        resolve();
      }),
    );
    return 'stopped';
  }
}

const back = new GawServer({ host: '127.0.0.1', port: 0, secret, encrypt: true }).add(Back);
after(() => back.close());

async function bridgePort(): Promise<number> {
  await back.listen();
  const bridge = await startGaw([
    'bridge',
    '--to',
    `127.0.0.1:${back.address.port}`,
    '--port',
    '0',
    '--encrypt',
    '--secret-file',
    fx.secretFile,
    '--http-token-file',
    fx.tokenFile,
  ]);
  return bridge.port;
}

function post(port: number, method: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/api`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] }),
  });
}

test('gaw bridge forwards the deadline, the request id and the trace to the server behind it', async () => {
  const port = await bridgePort();
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const parentId = '00f067aa0ba902b7';
  const reply = await post(port, 'back.look', {
    'Gaw-Timeout-Ms': '4000',
    'X-Request-Id': 'order-7',
    traceparent: `00-${traceId}-${parentId}-01`,
  });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get('x-request-id'), 'order-7');
  const json = (await reply.json()) as { result: Seen };
  assert.ok(json.result !== undefined, JSON.stringify(json));
  const { result } = json;
  assert.equal(result.requestId, 'order-7');
  assert.ok(result.remainingMs <= 4000 && result.remainingMs > 2000, `remainingMs ${result.remainingMs}`);
  const [, gotTrace, gotParent] = (result.traceparent ?? '').split('-');
  assert.equal(gotTrace, traceId, 'the same trace');
  assert.notEqual(gotParent, parentId, 'a new parent: the bridge is a hop');

  // The deadline passes while the downstream handler runs: its signal aborts, and the caller
  // gets the deadline error rather than waiting.
  const started = performance.now();
  const late = await post(port, 'back.wait', { 'Gaw-Timeout-Ms': '300', 'X-Request-Id': 'slow-1' });
  const body = (await late.json()) as { error?: { code: number } };
  const tookMs = performance.now() - started;
  assert.equal(body.error?.code, -32004, JSON.stringify(body));
  assert.ok(tookMs < 3000, `took ${tookMs} ms`);
  const waited = seen.find((one) => one.requestId === 'slow-1');
  assert.ok(waited !== undefined, 'the handler ran');
  const deadline = performance.now() + 2000;
  while (waited.abortCode === undefined && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  // The server's own deadline, or the bridge's CANCEL when its client timed out a moment earlier:
  // both are the deadline passing.
  assert.ok(['GAW_ERR_DEADLINE', 'GAW_ERR_ABORTED'].includes(waited.abortCode ?? ''), waited.abortCode);
});
