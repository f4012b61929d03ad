// The service console over real HTTP: with `console: true` the bridge serves the page at GET /
// under a CSP that allows only itself, its script and style, and exactly the modules of
// gaw/browser under /gaw/; without it nothing is served at /. (It runs in Chromium in
// test/browser/chromium-console.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawServer } from '../../src/server/index.js';
import { entrypoint } from '../../src/server/service.js';
import { examplesDir, startGaw } from '../cli/run-gaw.js';
import { assertRefusal, request, startBridge } from './http-helpers.js';

class Echo {
  static serviceName = 'echo';
  @entrypoint say(text: string) {
    return text;
  }
}

test('GET / serves the console page with a CSP that allows only this server, and its script imports gaw/browser from /gaw/', async () => {
  const { bridge, port } = await startBridge([Echo], { console: true });
  try {
    const page = await request(port, { method: 'GET', path: '/' });
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe|https?:|\*/, 'no inline code, no other origin');
    assert.match(page.body, /<script type="module" src="\/console.js"><\/script>/);
    assert.doesNotMatch(page.body, /https?:\/\//, 'nothing from a CDN');
    const script = await request(port, { method: 'GET', path: '/console.js' });
    assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.match(script.body, /from '\/gaw\/browser\/index.js'/);
    assert.doesNotMatch(script.body, /localStorage|sessionStorage|document\.cookie|innerHTML/);
    const entry = await request(port, { method: 'GET', path: '/gaw/browser/index.js' });
    assert.equal(entry.status, 200);
    assert.equal(entry.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.match(entry.body, /GawBrowserClient/);
    assert.equal((await request(port, { method: 'GET', path: '/gaw/errors.js' })).status, 200);
    assert.equal((await request(port, { method: 'HEAD', path: '/console.css' })).status, 200);
    // Only the modules gaw/browser reaches: not the Node codecs, not the server, not a path out.
    for (const path of ['/gaw/serializable/codec.js', '/gaw/server/index.js', '/gaw/../package.json', '/gaw/'])
      assertRefusal(await request(port, { method: 'GET', path }), 404, -32600, /not found/);
    assert.equal((await request(port, { method: 'POST', path: '/' })).status, 405);
    assert.equal((await request(port, { method: 'GET', path: '/health' })).status, 200);
  } finally {
    await bridge.close();
  }
});

test('without the console nothing is served at / or /gaw/', async () => {
  const { bridge, port } = await startBridge([Echo]);
  try {
    for (const path of ['/', '/console.js', '/gaw/browser/index.js'])
      assertRefusal(await request(port, { method: 'GET', path }), 404, -32600, /not found/);
  } finally {
    await bridge.close();
  }
});

test('GawServer takes http.console, and gaw --http-console serves the page', async () => {
  const server = new GawServer({ port: 0, http: { port: 0, console: true } }).add(Echo);
  await server.listen();
  try {
    assert.equal((await request(server.httpAddress!.port, { method: 'GET', path: '/' })).status, 200);
  } finally {
    await server.close();
  }
  const gaw = await startGaw([`${examplesDir}services.js`, '--port', '0', '--http-port', '0', '--http-console']);
  try {
    const page = await request(gaw.httpPort!, { method: 'GET', path: '/' });
    assert.equal(page.status, 200);
    assert.match(page.body, /gaw service console/);
  } finally {
    gaw.child.kill('SIGTERM');
    await gaw.exited;
  }
});
