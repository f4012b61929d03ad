// One request path under GawClient: the Python Gaw 0.7 wire is a Transport like GAWP/1, so its
// calls get the client's retries, deadlines and abort causes; options a transport cannot honour
// and misspelt option keys are refused with errors that name them; typed proxies take per-call
// options. Real sockets: a stand-in Python Gaw server (test/legacy/peers.ts) and a real GawServer.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { GawClient } from '../../src/client/index.js';
import type { GawClientOptions, Remote } from '../../src/client/index.js';
import { entrypoint } from '../../src/server/index.js';
import { FakePythonServer, mathRegistry, requestIdOf } from '../legacy/peers.js';
import type { PythonAction } from '../legacy/peers.js';
import { jsonOf, loadTranscript, wireFrames } from '../legacy/transcript.js';
import { Gate, startServer } from '../helpers/server-fixtures.js';

const plusReply = jsonOf(wireFrames(loadTranscript(), 'S>C')[0]!).toString();

/** Answers math_service.plus as the transcript's Python server did ('Hello!: 30'). */
function answer(json: string): PythonAction {
  return { json: plusReply.replace(/\d{30,}/g, requestIdOf(json)) };
}

async function python(t: TestContext, handle: (json: string, index: number) => PythonAction) {
  let index = 0;
  const server = await FakePythonServer.start('plain', undefined, (json) => handle(json, index++));
  t.after(() => server.close());
  return server;
}

function legacyClient(t: TestContext, port: number, options: GawClientOptions = {}): GawClient {
  const client = new GawClient({ protocol: 'gaw-legacy', port, registry: mathRegistry(), ...options });
  t.after(() => client.destroy());
  return client;
}

test('gaw-legacy: an idempotent call is retried after the connection drops mid-call; others are not', async (t) => {
  // The first request on every run is answered by hanging up: the call may have run.
  const server = await python(t, (json, index) => (index % 2 === 0 ? 'close' : answer(json)));
  const client = legacyClient(t, server.port, { baseDelayMs: 1, maxDelayMs: 5 });
  assert.equal(await client.call('math_service.plus', [10, 20], { isIdempotent: true }), 'Hello!: 30');
  assert.equal(server.requests.length, 2, 'one try that was cut, one retry');

  await assert.rejects(client.call('math_service.plus', [10, 20]), { code: 'GAW_ERR_CONN_CLOSED' });
  assert.equal(server.requests.length, 3, 'a call that may have run is not run again');
});

test('gaw-legacy: retries: 0 and the deadline are honoured; an abort keeps its cause', async (t) => {
  const server = await python(t, (json) => (json.includes('/hang"') ? 'silent' : 'close'));
  const client = legacyClient(t, server.port, { retries: 0 });
  await assert.rejects(client.call('math_service.plus', [1, 2], { isIdempotent: true }), {
    code: 'GAW_ERR_CONN_CLOSED',
  });
  assert.equal(server.requests.length, 1);

  await assert.rejects(client.call('math_service.hang', [], { timeoutMs: 50 }), { code: 'GAW_ERR_CALL_TIMEOUT' });

  const controller = new AbortController();
  const call = client.call('math_service.hang', [], { signal: controller.signal });
  await server.requestsReceived(3);
  controller.abort(new Error('the user went away'));
  await assert.rejects(call, (err: Error & { code?: string }) => {
    assert.equal(err.code, 'GAW_ERR_ABORTED');
    assert.match((err.cause as Error).message, /went away/);
    return true;
  });
});

test('gaw-legacy: what the Python wire cannot carry is refused with a clear error, never ignored', async (t) => {
  const server = await python(t, answer);
  for (const [key, value] of [
    ['suite', 'cbc'],
    ['codec', 'msgpack'],
    ['forwardSecrecy', false],
    ['keyId', 1],
  ] as const) {
    assert.throws(() => new GawClient({ protocol: 'gaw-legacy', port: server.port, [key]: value }), {
      code: 'GAW_ERR_INVALID_OPTION',
      message: new RegExp(`gaw-legacy has no ${key} option`),
    });
  }
  assert.throws(() => new GawClient({ protocol: 'gaw-legacy', endpoints: ['127.0.0.1:1', '127.0.0.1:2'] }), {
    message: /exactly one endpoint/,
  });
  const client = legacyClient(t, server.port);
  await assert.rejects(client.notify('math_service.plus', [1, 2]), { message: /no notifications/ });
  await assert.rejects(client.batch([{ method: 'math_service.plus', params: [1, 2] }]), { message: /no batches/ });
  await assert.rejects(client.callRaw('math_service.plus', [1, 2]), { message: /gawp protocol/ });
  assert.equal(server.requests.length, 0);
});

test('a misspelt option is a UsageError naming the nearest known one, in every option bag', async (t) => {
  assert.throws(() => new GawClient({ port: 1, timeout: 5 } as GawClientOptions), {
    name: 'UsageError',
    code: 'GAW_ERR_INVALID_OPTION',
    message: 'GawClient options have no option "timeout"; did you mean timeoutMs?',
  });
  assert.throws(() => new GawClient({ port: 1, retry: 5 } as GawClientOptions), { message: /did you mean retries\?/ });
  assert.throws(() => new GawClient({ port: 1, zzzzzzzzzz: 1 } as GawClientOptions), {
    message: 'GawClient options have no option "zzzzzzzzzz"',
  });
  const client = new GawClient({ port: 1 });
  t.after(() => client.destroy());
  // The trap from the issue: `idempotent` is the client's list; a call's override is isIdempotent.
  await assert.rejects(client.call('a.b', [], { idempotent: true } as object), {
    message: 'call options have no option "idempotent"; did you mean isIdempotent?',
  });
  await assert.rejects(client.batch([{ method: 'a.b' }], { signl: undefined } as object), {
    message: /did you mean signal\?/,
  });
  const proxy = client.service<{ f(): number }>('s');
  assert.throws(() => proxy.f.with({ timeout: 5 } as object), { message: /did you mean timeoutMs\?/ });
});

class SlowService {
  static serviceName = 'slow';
  constructor(readonly gate: Gate) {}

  @entrypoint
  async wait(label: string): Promise<string> {
    await this.gate.promise;
    return label;
  }

  @entrypoint
  add(a: number, b: number): number {
    return a + b;
  }
}

/** Compile-time only: per-call options keep the method's exact parameter and result types. */
export function wrongWithCalls(slow: Remote<SlowService>): void {
  // @ts-expect-error: a number where a string is declared, through .with()
  void slow.wait.with({ timeoutMs: 5 })(1);
  // @ts-expect-error: the awaited result is a number, not a string
  const wrong: Promise<string> = slow.add.with({})(1, 2);
  void wrong;
  // @ts-expect-error: not a call option
  void slow.add.with({ retries: 1 })(1, 2);
}

test('a typed proxy takes a signal and a timeout per call, and for every call of a proxy', async (t) => {
  const gate = new Gate();
  const server = await startServer({ port: 0 }, [SlowService, gate]);
  t.after(() => server.close());
  const client = new GawClient({ port: server.address.port });
  t.after(() => client.destroy());
  const slow = client.service<SlowService>('slow');

  const sum: number = await slow.add.with({ timeoutMs: 5_000 })(2, 3);
  assert.equal(sum, 5);
  await assert.rejects(slow.wait.with({ timeoutMs: 30 })('late'), { code: 'GAW_ERR_CALL_TIMEOUT' });

  const controller = new AbortController();
  const aborted = slow.wait.with({ signal: controller.signal })('never');
  controller.abort(new Error('stop now'));
  await assert.rejects(aborted, (err: Error & { code?: string }) => {
    assert.equal(err.code, 'GAW_ERR_ABORTED');
    return true;
  });

  const perProxy = new AbortController();
  const scoped = client.service<SlowService>('slow', { signal: perProxy.signal });
  const first = scoped.wait('a');
  const second = scoped.wait('b');
  perProxy.abort();
  await assert.rejects(first, { code: 'GAW_ERR_ABORTED' });
  await assert.rejects(second, { code: 'GAW_ERR_ABORTED' });
  gate.open();
  assert.equal(await slow.wait('open'), 'open');
});
