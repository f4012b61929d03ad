// gaw/browser in real headless Chromium (Debian's, driven by playwright-core; one launch for the
// file): a page on another origin loads the client's ES modules as they are and calls an encrypted
// server through its bridge over POST, across a real CORS preflight; a call times out, one is
// aborted while its handler runs (the handler is told), and a wrong token is refused.
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

class Geometry {
  static serviceName = 'geometry';
  @entrypoint add(a: number, b: number) {
    return a + b;
  }
  @entrypoint fail() {
    throw new ServiceError(1001, 'no such shape');
  }
  @entrypoint async wait(label: string) {
    const signal = callContext()!.signal;
    seen.started.push(label);
    signal.addEventListener('abort', () => seen.aborted.push(label));
    await Promise.race([gate.promise, new Promise((resolve) => signal.addEventListener('abort', resolve))]);
    return label;
  }
}

const token = 'chromium-token';

let browser: import('playwright-core').Browser | undefined;
let server: GawServer;
let pages: PageServer;
let pageOrigin: string;
let apiUrl: string;

before(async () => {
  if (chromium.skip) return;
  pages = await startPageServer();
  pageOrigin = pages.origin;
  server = await startServer(
    { secret: makeSecret(), encrypt: true, http: { port: 0, token, corsOrigins: [pageOrigin] } },
    Geometry,
  );
  apiUrl = `http://127.0.0.1:${server.httpAddress!.port}/api`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  pages?.close();
});

test('in Chromium, a page on another origin calls an encrypted server over POST: call, proxy, batch, errors', {
  skip: chromium.skip,
}, async () => {
  const page = await browser!.newPage();
  try {
    await page.goto(`${pageOrigin}/`);
    const result = await page.evaluate(
      async ({ apiUrl, token }) => {
        const gaw = await import('/gaw/browser/index.js' as string);
        const client = new gaw.GawBrowserClient({ url: apiUrl, token });
        const sum = await client.call('geometry.add', [1, 2]);
        const proxied = await client.service('geometry').add(20, 22);
        const batch = await client.batch([{ method: 'geometry.add', params: [2, 2] }, { method: 'geometry.fail' }]);
        const failure = await client.call('geometry.fail').catch((err: any) => [err.name, err.rpcCode, err.message]);
        return { sum, proxied, batch: batch.map((r: any) => (r.ok ? r.result : r.error.rpcCode)), failure };
      },
      { apiUrl, token },
    );
    assert.deepEqual(result, {
      sum: 3,
      proxied: 42,
      batch: [4, 1001],
      failure: ['RemoteError', 1001, 'no such shape'],
    });
  } finally {
    await page.close();
  }
});

test('in Chromium, a call times out, an aborted call tells its handler, and a wrong token is refused', {
  skip: chromium.skip,
}, async () => {
  const page = await browser!.newPage();
  try {
    await page.goto(`${pageOrigin}/`);
    gate = new Gate();
    seen.started = [];
    seen.aborted = [];
    const timedOut = await page.evaluate(
      async ({ apiUrl, token }) => {
        const gaw = await import('/gaw/browser/index.js' as string);
        const client = new gaw.GawBrowserClient({ url: apiUrl, token });
        return client.call('geometry.wait', ['slow'], { timeoutMs: 300 }).catch((err: any) => [err.name, err.code]);
      },
      { apiUrl, token },
    );
    assert.deepEqual(timedOut, ['TimeoutError', 'GAW_ERR_CALL_TIMEOUT']);
    await until(() => seen.aborted.includes('slow'), 'the timed-out call’s handler was told');
    // Start a call, wait until its handler runs, then abort it from the page.
    await page.evaluate(
      async ({ apiUrl, token }) => {
        const gaw = await import('/gaw/browser/index.js' as string);
        const client = new gaw.GawBrowserClient({ url: apiUrl, token });
        const controller = new AbortController();
        const w = globalThis as any;
        w.abortCall = () => controller.abort();
        w.aborted = client
          .call('geometry.wait', ['aborted'], { signal: controller.signal })
          .catch((err: any) => [err.name, err.code]);
      },
      { apiUrl, token },
    );
    await until(() => seen.started.includes('aborted'), 'the call reached its handler');
    const aborted = await page.evaluate(() => {
      const w = globalThis as any;
      w.abortCall();
      return w.aborted;
    });
    assert.deepEqual(aborted, ['AbortError', 'GAW_ERR_ABORTED']);
    await until(() => seen.aborted.includes('aborted'), 'the aborted call’s handler was told');
    const refused = await page.evaluate(
      async ({ apiUrl }) => {
        const gaw = await import('/gaw/browser/index.js' as string);
        const client = new gaw.GawBrowserClient({ url: apiUrl, token: 'wrong-token' });
        return client.call('geometry.add', [1, 2]).catch((err: any) => [err.name, err.rpcCode, err.data]);
      },
      { apiUrl },
    );
    assert.deepEqual(refused, ['RemoteError', -32600, { httpStatus: 401 }]);
  } finally {
    gate.open();
    await page.close();
  }
});
