// Terminal escape injection: servers that send ESC sequences (an OSC 52 clipboard write, screen
// clears), carriage returns, DEL and C1 controls in error messages, results, method and parameter
// names, a 401 body, and callers that put them in a handler's error (logged with its stack). The
// real CLI runs as a child process; nothing raw may reach its stdout or stderr, and the text must
// still be readable, with each control character shown as an escape.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { escapeControls } from '../../src/cli/terminal-text.js';
import { ServiceError } from '../../src/errors.js';
import { GawServer } from '../../src/server/index.js';
import { useFixtureModules } from './fixture-modules.js';
import { childEnv, gawBin, runGaw } from './run-gaw.js';

const osc52 = '\x1b]52;c;cm0gLXJmIH4K\x07'; // writes "rm -rf ~" to the clipboard
const forged = '\r\x1b[2K12:00:00.000 INFO  gaw stopped';
const hostile = `${osc52}denied${forged}\x7f\u009b2J\u202etxt`;
/** `hostile` as the CLI shows it. */
const hostileShown =
  '\\u001b]52;c;cm0gLXJmIH4K\\u0007denied\\r\\u001b[2K12:00:00.000 INFO  gaw stopped\\u007f\\u009b2J\\u202etxt';

/** No control character a terminal would act on, except the newlines of our own layout. */
function assertInert(text: string, what: string): void {
  const raw = /(?!\n)[\p{Cc}\u202e]/u.exec(text);
  assert.equal(raw, null, `${what} holds a raw control character ${JSON.stringify(raw?.[0])}: ${JSON.stringify(text)}`);
}

test('escapeControls shows C0, DEL, C1, CR and bidi overrides as escapes, and keeps newlines only when asked', () => {
  assert.equal(escapeControls('a\x1b[31mb'), 'a\\u001b[31mb');
  assert.equal(escapeControls('a\rb\nc\td'), 'a\\rb\\nc\\td');
  assert.equal(escapeControls('a\rb\nc', { keepNewlines: true }), 'a\\rb\nc');
  assert.equal(escapeControls('\x7f\u0085\u009b\u202e\u2028'), '\\u007f\\u0085\\u009b\\u202e\\u2028');
  assert.equal(escapeControls('plain text, é ü 日本 \u00a0'), 'plain text, é ü 日本 \u00a0');
  const json = JSON.stringify({ k: 'x\u009by\x7f' });
  assert.deepEqual(JSON.parse(escapeControls(json)), { k: 'x\u009by\x7f' }, 'JSON stays valid and equal in value');
});

describe('gaw call and gaw list against a hostile HTTP server', () => {
  let url: string;
  const http = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      if (req.url === '/locked') {
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: `${hostile}\nsecond line` } }),
        );
        return;
      }
      const { id, method } = JSON.parse(body) as { id: number; method: string };
      const reply =
        method === 'rpc.discover'
          ? {
              result: {
                openrpc: '1.3.2',
                methods: [
                  { name: `svc${osc52}.plus\x1b[2J`, params: [{ name: `a${forged}` }, { name: 'b\u009b' }] },
                  { name: `other\r.m`, params: [] },
                ],
              },
            }
          : method === 'svc.result'
            ? { result: { text: `x${hostile}` } }
            : { error: { code: -32000, message: hostile, data: { detail: hostile } } };
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id, ...reply }));
    });
  });
  before(async () => {
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => http.close(() => resolve())));

  test('a remote error message and its data are printed with every control character escaped', async () => {
    const result = await runGaw(['call', `${url}/api`, 'svc.fail']);
    assertInert(result.stdout + result.stderr, 'the output');
    assert.equal(result.stderr, `error -32000: ${hostileShown}\ndata: {"detail":"${hostileShown}"}\n`);
    assert.equal(result.code, 1);
  });

  test('a result with DEL, C1 and bidi characters is printed as JSON that still parses to the same value', async () => {
    const result = await runGaw(['call', `${url}/api`, 'svc.result']);
    assertInert(result.stdout, 'stdout');
    assert.deepEqual(JSON.parse(result.stdout), { text: `x${hostile}` });
    assert.equal(result.code, 0);
  });

  test('gaw list prints hostile service, method and parameter names escaped, and --json stays valid', async () => {
    const result = await runGaw(['list', `${url}/api`]);
    assertInert(result.stdout + result.stderr, 'the listing');
    assert.equal(
      result.stdout,
      'svc\\u001b]52;c;cm0gLXJmIH4K\\u0007\n' +
        '  plus\\u001b[2J(a\\r\\u001b[2K12:00:00.000 INFO  gaw stopped, b\\u009b)\n' +
        'other\\r\n  m()\n',
    );
    const json = await runGaw(['list', `${url}/api`, '--json']);
    assertInert(json.stdout, 'the --json listing');
    assert.equal((JSON.parse(json.stdout) as { methods: { name: string }[] }).methods[1]?.name, 'other\r.m');
  });

  test('a 401 body is shown escaped on one line', async () => {
    const result = await runGaw(['call', `${url}/locked`, 'svc.fail']);
    assertInert(result.stderr, 'stderr');
    assert.match(
      result.stderr,
      /^gaw: HTTP 401 from http:\/\/127\.0\.0\.1:\d+\/locked: \\u001b\]52;c;cm0gLXJmIH4K\\u0007denied\\r/,
    );
    assert.match(result.stderr, /\\nsecond line \(GAW_ERR_BAD_RESPONSE\)\n$/);
    assert.equal(result.stderr.split('\n').length, 2, 'one line');
    assert.equal(result.code, 1);
  });
});

test('gaw call over GAWP/1 prints a ServiceError message from the server escaped', async () => {
  class Hostile {
    static serviceName = 'hostile';
    static entrypoints = ['fail'];
    fail(): never {
      throw new ServiceError(-32010, hostile);
    }
  }
  const server = new GawServer({ host: '127.0.0.1', port: 0 });
  server.add(Hostile);
  await server.listen();
  try {
    const result = await runGaw(['call', `127.0.0.1:${server.address.port}`, 'hostile.fail']);
    assertInert(result.stderr, 'stderr');
    assert.match(result.stderr, /^error -32010: \\u001b\]52;c;cm0gLXJmIH4K\\u0007denied\\r\\u001b\[2K/);
    assert.equal(result.code, 1);
  } finally {
    await server.close();
  }
});

describe('the server log, when a caller puts control characters in what a handler throws', () => {
  const fx = useFixtureModules('', '', 'unused-token');
  const module = join(fx.dir, 'thrower.mjs');
  writeFileSync(
    module,
    "export class Thrower { static serviceName = 'thrower'; static entrypoints = ['fail']; fail(text) { throw new Error(text); } }\n",
  );

  /** Starts `gaw <module> --port 0 ...extra`, calls thrower.fail(hostile), and returns its stdout once the failure is logged. */
  async function logOfFailure(extra: string[], isLogged: (stdout: string) => boolean): Promise<string> {
    const child = spawn(process.execPath, [gawBin, module, '--port', '0', ...extra], {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const watchers = new Set<() => void>();
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      for (const watcher of watchers) watcher();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const waitFor = (check: () => boolean, what: string) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${what} not seen within 15 s: ${stdout}${stderr}`)), 15_000);
        const look = () => {
          if (!check()) return;
          clearTimeout(timer);
          watchers.delete(look);
          resolve();
        };
        watchers.add(look);
        look();
      });
    try {
      await waitFor(() => stdout.includes('gaw started'), 'the startup line');
      const line = stdout.split('\n').find((l) => l.includes('gaw started')) ?? '';
      const port = /(?:"port":|port=)(\d+)/.exec(line)?.[1];
      assert.ok(port !== undefined, line);
      const call = await runGaw(['call', `127.0.0.1:${port}`, 'thrower.fail', JSON.stringify(hostile)]);
      assert.equal(call.code, 1, call.stderr);
      await waitFor(() => isLogged(stdout), 'the handler failure');
      return stdout;
    } finally {
      child.kill('SIGKILL');
    }
  }

  test('the pretty format shows the stack with CR and ESC escaped, so no line can be forged', async () => {
    const stdout = await logOfFailure(['--log-format', 'pretty'], (out) => out.includes('at Thrower.fail'));
    assertInert(stdout, 'the pretty log');
    const lines = stdout.split('\n');
    const first = lines.findIndex((line) => line.includes('handler failed'));
    assert.ok(first >= 0, stdout);
    assert.match(
      lines[first + 1] ?? '',
      /^ {4}Error: \\u001b\]52;c;cm0gLXJmIH4K\\u0007denied\\r\\u001b\[2K12:00:00\.000 INFO {2}gaw stopped/,
    );
    assert.ok(!lines.some((line) => line.startsWith('12:00:00.000')), 'a forged line');
  });

  test('the JSON format escapes DEL, C1 and bidi controls and the line still parses to the message', async () => {
    const stdout = await logOfFailure(['--log-format', 'json'], (out) => out.includes('handler failed'));
    assertInert(stdout, 'the JSON log');
    const record = stdout
      .split('\n')
      .filter((line) => line.includes('handler failed'))
      .map((line) => JSON.parse(line) as { err: { message: string } })[0];
    assert.equal(record?.err.message, hostile);
  });
});
