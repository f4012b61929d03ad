// gaw/browser's WebSocket transport in real headless Chromium (one launch for the file), against
// the bridge's WebSocket endpoint on /api of an encrypted server, from a page on another origin:
// calls, proxies and batches on one socket; events the server pushes arrive as callbacks (a
// subscription, and a push to the calling socket); a call times out and one is aborted, and both
// handlers are told; a wrong token is refused for good; a dropped socket fails the calls in flight,
// and the client reconnects, renews its subscriptions and serves the calls made meanwhile.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { callContext } from '../../src/context.js';
import { ServiceError } from '../../src/errors.js';
import type { GawServer } from '../../src/server/index.js';
import { entrypoint } from '../../src/server/service.js';
import { chromium, launchChromium, startPageServer } from '../helpers/chromium.js';
import type { PageServer } from '../helpers/chromium.js';
import { Gate, makeSecret, startServer, until } from '../helpers/server-fixtures.js';

const seen = { started: [] as string[], aborted: [] as string[] };
let gate = new Gate();
let server: GawServer;

class Shapes {
  static serviceName = 'shapes';
  @entrypoint add(a: number, b: number) {
    return a + b;
  }
  @entrypoint fail() {
    throw new ServiceError(1001, 'no such shape');
  }
  /** Tells the calling socket of its progress before it answers. */
  @entrypoint draw(name: string) {
    server.webSockets.notify(callContext()!.peer, 'shapes.progress', [name, 50]);
    return `${name} drawn`;
  }
  @entrypoint async wait(label: string) {
    const signal = callContext()!.signal;
    seen.started.push(label);
    signal.addEventListener('abort', () => seen.aborted.push(label));
    await Promise.race([gate.promise, new Promise((resolve) => signal.addEventListener('abort', resolve))]);
    return label;
  }
}

const token = 'chromium-ws-token';
let browser: import('playwright-core').Browser | undefined;
let pages: PageServer;
let wsUrl: string;
const opened: string[] = [];

before(async () => {
  if (chromium.skip) return;
  pages = await startPageServer();
  server = await startServer(
    { secret: makeSecret(), encrypt: true, http: { port: 0, token, corsOrigins: [pages.origin], websocket: true } },
    Shapes,
  );
  server.webSockets.on('open', (peer) => opened.push(peer));
  wsUrl = `ws://127.0.0.1:${server.httpAddress!.port}/api`;
  browser = await launchChromium();
});

after(async () => {
  gate.open();
  await browser?.close();
  await server?.close();
  pages?.close();
});

async function openPage(): Promise<import('playwright-core').Page> {
  const page = await browser!.newPage();
  await page.goto(`${pages.origin}/`);
  return page;
}

test('in Chromium, calls over WebSocket reach an encrypted server, and pushed events arrive as callbacks', {
  skip: chromium.skip,
}, async () => {
  const page = await openPage();
  try {
    const result = await page.evaluate(
      async ({ wsUrl, token }) => {
        const gaw = await import('/gaw/browser/index.js' as string);
        const w = globalThis as any;
        w.events = [];
        w.client = new gaw.GawBrowserClient({
          url: wsUrl,
          token,
          onNotification: (method: string, params: unknown) => w.events.push([method, params]),
        });
        const client = w.client;
        const [sum, proxied] = await Promise.all([
          client.call('shapes.add', [1, 2]),
          client.service('shapes').add(20, 22),
        ]);
        const batch = await client.batch([{ method: 'shapes.add', params: [2, 2] }, { method: 'shapes.fail' }]);
        const failure = await client.call('shapes.fail').catch((err: any) => [err.name, err.rpcCode, err.message]);
        const drawn = await client.call('shapes.draw', ['circle']);
        const pushedFirst = w.events.map(([method, params]: [string, unknown]) => [method, params]);
        await client.subscribe(['shapes.created']);
        return {
          sum,
          proxied,
          batch: batch.map((r: any) => (r.ok ? r.result : r.error.rpcCode)),
          failure,
          drawn,
          pushedFirst,
        };
      },
      { wsUrl, token },
    );
    assert.deepEqual(result, {
      sum: 3,
      proxied: 42,
      batch: [4, 1001],
      failure: ['RemoteError', 1001, 'no such shape'],
      drawn: 'circle drawn',
      // The push to the calling socket was sent before the reply, so it arrived first.
      pushedFirst: [['shapes.progress', ['circle', 50]]],
    });
    assert.equal(opened.length, 1, 'every call went over one socket');
    // A published event reaches the subscribed page as a callback, its Date decoded by the registry.
    assert.equal(server.webSockets.publish('shapes.created', { id: 31, at: new Date(0) }), 1);
    assert.equal(server.webSockets.publish('shapes.deleted', { id: 31 }), 0, 'not subscribed: not sent');
    await page.waitForFunction(() => (globalThis as any).events.length === 2);
    const created = await page.evaluate(() => {
      const [method, params] = (globalThis as any).events[1];
      return { method, id: params.id, isDate: params.at instanceof Date, at: params.at.getTime() };
    });
    assert.deepEqual(created, { method: 'shapes.created', id: 31, isDate: true, at: 0 });
    await page.evaluate(() => (globalThis as any).client.unsubscribe(['shapes.created']));
    assert.equal(server.webSockets.publish('shapes.created', { id: 32 }), 0, 'unsubscribed');
  } finally {
    await page.close();
  }
});

test('in Chromium over WebSocket, a call times out and one is aborted (both handlers told), and a wrong token is refused for good', {
  skip: chromium.skip,
}, async () => {
  const page = await openPage();
  try {
    gate = new Gate();
    seen.started = [];
    seen.aborted = [];
    await page.evaluate(
      async ({ wsUrl, token }) => {
        const gaw = await import('/gaw/browser/index.js' as string);
        const w = globalThis as any;
        w.client = new gaw.GawBrowserClient({ url: wsUrl, token });
        const controller = new AbortController();
        w.abortCall = () => controller.abort();
        w.timedOut = w.client
          .call('shapes.wait', ['slow'], { timeoutMs: 300 })
          .catch((err: any) => [err.name, err.code]);
        w.aborted = w.client
          .call('shapes.wait', ['aborted'], { signal: controller.signal })
          .catch((err: any) => [err.name, err.code]);
      },
      { wsUrl, token },
    );
    assert.deepEqual(await page.evaluate(() => (globalThis as any).timedOut), ['TimeoutError', 'GAW_ERR_CALL_TIMEOUT']);
    await until(() => seen.aborted.includes('slow'), 'the timed-out call’s handler was told');
    await until(() => seen.started.includes('aborted'), 'the call reached its handler');
    assert.deepEqual(
      await page.evaluate(() => {
        const w = globalThis as any;
        w.abortCall();
        return w.aborted;
      }),
      ['AbortError', 'GAW_ERR_ABORTED'],
    );
    // The client's timeout is 30 s: only its rpc.cancel can have told the handler this soon.
    await until(() => seen.aborted.includes('aborted'), 'the aborted call’s handler was told (rpc.cancel)');
    assert.equal(
      await page.evaluate(() => (globalThis as any).client.call('shapes.add', [2, 3])),
      5,
      'the socket still serves',
    );
    const openedBefore = opened.length;
    const refused = await page.evaluate(
      async ({ wsUrl }) => {
        const gaw = await import('/gaw/browser/index.js' as string);
        const client = new gaw.GawBrowserClient({ url: wsUrl, token: 'wrong-token' });
        const first = await client.call('shapes.add', [1, 2]).catch((err: any) => [err.name, err.rpcCode, err.data]);
        const again = await client.call('shapes.add', [1, 2]).catch((err: any) => [err.name, err.rpcCode, err.data]);
        return { first, again };
      },
      { wsUrl },
    );
    assert.deepEqual(refused, {
      first: ['RemoteError', -32600, { httpStatus: 401 }],
      again: ['RemoteError', -32600, { httpStatus: 401 }],
    });
    assert.equal(opened.length, openedBefore, 'no socket with a wrong token was ever authenticated');
  } finally {
    gate.open();
    await page.close();
  }
});

test('in Chromium, a page of an origin the bridge does not list is refused at the upgrade: the call fails at once with ConnectionError', {
  skip: chromium.skip,
}, async () => {
  const foreign = await startPageServer();
  const page = await browser!.newPage();
  try {
    await page.goto(`${foreign.origin}/`);
    const openedBefore = opened.length;
    const started = Date.now();
    const refused = await page.evaluate(
      async ({ wsUrl, token }) => {
        const gaw = await import('/gaw/browser/index.js' as string);
        const client = new gaw.GawBrowserClient({ url: wsUrl, token, timeoutMs: 20_000 });
        return client.call('shapes.add', [1, 2]).catch((err: any) => [err.name, err.code]);
      },
      { wsUrl, token },
    );
    assert.deepEqual(refused, ['ConnectionError', 'GAW_ERR_CONN_REFUSED']);
    assert.ok(Date.now() - started < 10_000, 'not left waiting for its 20 s timeout');
    assert.equal(opened.length, openedBefore);
  } finally {
    await page.close();
    foreign.close();
  }
});

test('in Chromium, a dropped WebSocket fails the calls in flight; the client reconnects, renews its subscriptions and serves calls made meanwhile', {
  skip: chromium.skip,
}, async () => {
  const page = await openPage();
  try {
    gate = new Gate();
    seen.started = [];
    seen.aborted = [];
    const openedBefore = opened.length;
    await page.evaluate(
      async ({ wsUrl, token }) => {
        const gaw = await import('/gaw/browser/index.js' as string);
        const w = globalThis as any;
        w.events = [];
        w.client = new gaw.GawBrowserClient({ url: wsUrl, token, reconnectDelayMs: 50 });
        w.client.onNotification((method: string, params: unknown) => w.events.push([method, params]));
        await w.client.subscribe(['shapes.created']);
        w.inFlight = w.client.call('shapes.wait', ['in-flight']).catch((err: any) => [err.name, err.code]);
      },
      { wsUrl, token },
    );
    await until(() => seen.started.includes('in-flight'), 'the call reached its handler');
    assert.equal(opened.length, openedBefore + 1);
    const peer = opened.at(-1)!;
    assert.equal(server.webSockets.disconnect(peer), true);
    assert.deepEqual(await page.evaluate(() => (globalThis as any).inFlight), [
      'ConnectionError',
      'GAW_ERR_CONN_CLOSED',
    ]);
    await until(() => seen.aborted.includes('in-flight'), 'the dropped call’s handler was told');
    // A call made while the socket is down waits for the next one.
    const meanwhile = page.evaluate(() => (globalThis as any).client.call('shapes.add', [4, 5]));
    // The subscription comes back with the new socket, by itself.
    await until(() => server.webSockets.publish('shapes.created', { id: 33 }) === 1, 'the subscription was renewed');
    assert.equal(await meanwhile, 9);
    assert.equal(opened.length, openedBefore + 2, 'one new socket');
    assert.notEqual(opened.at(-1), peer);
    await page.waitForFunction(() => (globalThis as any).events.length === 1);
    assert.deepEqual(await page.evaluate(() => (globalThis as any).events), [['shapes.created', { id: 33 }]]);
  } finally {
    gate.open();
    await page.close();
  }
});
