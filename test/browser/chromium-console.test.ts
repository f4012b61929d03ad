// The service console in real headless Chromium (one launch for the file): the page of an
// encrypted server's bridge asks for the token, lists the services and methods from rpc.discover,
// calls a method from its form and shows the result and latency, under its CSP with no violation,
// keeping the token out of storage, cookies and the URL. A screenshot lands in the test's temp dir.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GawServer } from '../../src/server/index.js';
import { ServiceError } from '../../src/errors.js';
import { register } from '../../src/serializable/index.js';
import { entrypoint } from '../../src/server/service.js';
import { chromium, launchChromium } from '../helpers/chromium.js';
import { makeSecret, startServer } from '../helpers/server-fixtures.js';

class Greeting {
  constructor(public text = '') {}
}
register(Greeting, { tag: 'ConsoleGreeting' });

class Greeter {
  static serviceName = 'greeter';
  @entrypoint greet(name: string, punctuation = '!') {
    return new Greeting(`hello ${name}${punctuation}`);
  }
  @entrypoint fail() {
    throw new ServiceError(1001, 'no greeting today', { reason: 'closed' });
  }
}

const token = 'console-token';
let browser: import('playwright-core').Browser | undefined;
let server: GawServer;
let dir: string;

before(async () => {
  if (chromium.skip) return;
  dir = mkdtempSync(path.join(tmpdir(), 'gaw-console-'));
  server = await startServer({ secret: makeSecret(), encrypt: true, http: { port: 0, token, console: true } }, Greeter);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test('the console asks for the token, lists a service, calls a method from its form and shows the result', {
  skip: chromium.skip,
}, async () => {
  const page = await browser!.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !/401/.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  try {
    const url = `http://127.0.0.1:${server.httpAddress!.port}/`;
    await page.goto(url);
    await page.waitForSelector('#status.error');
    assert.match((await page.textContent('#status')) ?? '', /needs its bearer token/);
    await page.fill('#token', token);
    await page.click('#connect button');
    const form = page.locator('section[data-service="greeter"] form[data-method="greeter.greet"]');
    await form.waitFor();
    assert.match((await form.locator('.params').textContent()) ?? '', /params: name, punctuation\?/);
    assert.equal(await form.locator('textarea').inputValue(), '{"name":null,"punctuation":null}');
    await form.locator('textarea').fill('["console", "?"]');
    await form.locator('button').click();
    await form.locator('output.ok').waitFor();
    const shown = JSON.parse((await form.locator('output').textContent()) ?? '');
    assert.deepEqual(shown, { _t: 'ConsoleGreeting', _v: { text: 'hello console?' } }, 'the wire form, tags and all');
    assert.match((await form.locator('.latency').textContent()) ?? '', /^\d+\.\d ms$/);
    // An error shows its code, message and data.
    const fail = page.locator('form[data-method="greeter.fail"]');
    await fail.locator('button').click();
    await fail.locator('output.error').waitFor();
    const error = (await fail.locator('output').textContent()) ?? '';
    assert.match(error, /^error 1001: no greeting today\n/);
    assert.deepEqual(JSON.parse(error.slice(error.indexOf('\n'))), { reason: 'closed' });
    const screenshot = path.join(dir, 'console.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    assert.ok(existsSync(screenshot) && statSync(screenshot).size > 1000, 'a screenshot was taken');
    // The token lives in the module's memory only.
    const stored = await page.evaluate(() => {
      const w = globalThis as any;
      return {
        local: JSON.stringify({ ...w.localStorage }),
        session: JSON.stringify({ ...w.sessionStorage }),
        cookie: String(w.document.cookie),
        href: String(w.location.href),
      };
    });
    for (const value of Object.values(stored)) assert.ok(!value.includes(token), 'the token is not stored');
    assert.deepEqual(problems, [], 'no script error and no CSP violation');
  } finally {
    await page.close();
  }
});
