import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { parseParams, parseValue } from '../../src/cli/call.js';
import { generateSecret } from '../../src/cli/index.js';
import { useFixtureModules } from './fixture-modules.js';
import { examplesDir, runGaw, startGaw } from './run-gaw.js';
import type { StartedGaw } from './run-gaw.js';

describe('command-line params', () => {
  test('a word is JSON when it parses and a string otherwise', () => {
    const cases: [string, unknown][] = [
      ['10', 10],
      ['-2.5', -2.5],
      ['true', true],
      ['null', null],
      ['"10"', '10'],
      ['[1,"a"]', [1, 'a']],
      ['{"a":{"b":2}}', { a: { b: 2 } }],
      ['hello', 'hello'],
      ['hello world', 'hello world'],
      ['', ''],
      ['{broken', '{broken'],
    ];
    for (const [word, expected] of cases) assert.deepEqual(parseValue(word), expected, word);
  });

  test('key=value words become named params and bare words positional ones', () => {
    assert.equal(parseParams([]), undefined);
    assert.deepEqual(parseParams(['10', 'x', '[1]']), [10, 'x', [1]]);
    assert.deepEqual(parseParams(['a=10', 'b=x=y', 'c=', 'd={"k":1}']), { a: 10, b: 'x=y', c: '', d: { k: 1 } });
    assert.deepEqual(parseParams(['=5', '1=2']), ['=5', '1=2']); // not identifiers: positional strings
    const named = parseParams(['__proto__=1']) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(named), Object.prototype);
    assert.deepEqual(Object.keys(named), ['__proto__']);
  });

  test('mixing named and positional params, or naming one twice, is a usage error', () => {
    assert.throws(() => parseParams(['a=1', '2']), { code: 'GAW_ERR_INVALID_OPTION', message: /not a mix/ });
    assert.throws(() => parseParams(['a=1', 'a=2']), { code: 'GAW_ERR_INVALID_OPTION', message: /"a" is given twice/ });
  });
});

describe('gaw call', () => {
  const secret = generateSecret(24);
  const token = 'call-test-token';
  const fx = useFixtureModules(secret, generateSecret(24), token);
  let server: StartedGaw;
  let target: string;
  const auth = () => ['--secret-file', fx.secretFile];

  before(async () => {
    server = await startGaw([
      `${examplesDir}services.js`,
      '--port',
      '0',
      '--secret-file',
      fx.secretFile,
      '--http-port',
      '0',
      '--http-token-file',
      fx.tokenFile,
    ]);
    target = `127.0.0.1:${server.port}`;
  });

  test('prints a class-tagged result as JSON with the tag visible', async () => {
    const result = await runGaw(['call', target, 'math_service.multiply', '10', '20', ...auth()]);
    assert.equal(result.stdout, '{"_t":"MathResult","_v":{"header":"hello!","result":200}}\n');
    assert.equal(result.code, 0);
  });

  test('sends key=value words as named params and --params as one JSON document', async () => {
    const named = await runGaw(['call', target, 'math_service.plus', 'b=2', 'a=40', ...auth()]);
    assert.equal(named.stdout, '"hello!: 42"\n');
    const document = await runGaw(['call', target, 'math_service.plus', '--params', '{"a": "x", "b": "y"}', ...auth()]);
    assert.equal(document.stdout, '"hello!: xy"\n');
    const both = await runGaw(['call', target, 'math_service.plus', '1', '--params', '[1, 2]', ...auth()]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /not both/);
  });

  test('speaks msgpack when asked and prints the same JSON', async () => {
    const result = await runGaw(['call', target, 'math_service.multiply', '2', '3', '--codec', 'msgpack'], {
      env: { GAW_SECRET: secret },
    });
    assert.equal(result.stdout, '{"_t":"MathResult","_v":{"header":"hello!","result":6}}\n');
  });

  test('prints a remote error with its JSON-RPC code and data on stderr and exits 1', async () => {
    const divide = await runGaw(['call', target, 'math_service.divide', '1', '0', ...auth()]);
    assert.equal(divide.stdout, '');
    assert.equal(divide.stderr, 'error 1001: division by zero\ndata: {"a":1,"b":0}\n');
    assert.equal(divide.code, 1);
    const missing = await runGaw(['call', target, 'math_service.nope', ...auth()]);
    assert.match(missing.stderr, /^error -32601: /);
    assert.equal(missing.code, 1);
    const badParams = await runGaw(['call', target, 'math_service.plus', 'c=1', ...auth()]);
    assert.match(badParams.stderr, /^error -32602: /);
  });

  test('--timing prints the connect+handshake and call times on stderr', async () => {
    const result = await runGaw(['call', target, 'math_service.plus', '1', '2', '--timing', ...auth()]);
    assert.equal(result.stdout, '"hello!: 3"\n');
    assert.match(result.stderr, /^connect\+handshake: [\d.]+ ms\ncall: [\d.]+ ms\ntotal: [\d.]+ ms\n$/);
  });

  test('a wrong secret is a clear error with exit code 1', async () => {
    const result = await runGaw(['call', target, 'math_service.plus', '1', '2', '--secret-file', fx.wrongSecretFile]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^gaw: authentication failed: the secret is probably wrong \(GAW_ERR_AUTH_FAILED\)\n$/);
  });

  test('a suite mismatch says what to change', async () => {
    const encrypted = await runGaw(['call', target, 'math_service.plus', '1', '2', '--encrypt', ...auth()]);
    assert.equal(encrypted.code, 1);
    assert.match(encrypted.stderr, /requires suite sign: pass the secret without --encrypt/);
    const plain = await runGaw(['call', target, 'math_service.plus', '1', '2']);
    assert.match(plain.stderr, /requires suite sign: pass the secret without --encrypt/);
  });

  test('nothing listening is a runtime failure (exit 1), a malformed target a usage error (exit 2)', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const refused = await runGaw(['call', `127.0.0.1:${port}`, 'math_service.plus']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /connection refused .*GAW_ERR_CONN_REFUSED/);
    const malformed = await runGaw(['call', 'nowhere', 'math_service.plus']);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /target "nowhere" is not host:port or an http:\/\/host:port\/api URL/);
  });

  test('calls through an HTTP bridge URL with the bearer token, and says so when the token is missing', async () => {
    const url = `http://127.0.0.1:${server.httpPort}/api`;
    const ok = await runGaw(['call', url, 'math_service.multiply', '3', '4'], { env: { GAW_HTTP_TOKEN: token } });
    assert.equal(ok.stdout, '{"_t":"MathResult","_v":{"header":"hello!","result":12}}\n');
    assert.equal(ok.code, 0);
    const denied = await runGaw(['call', url, 'math_service.multiply', '3', '4']);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /HTTP 401 .*bearer token is required/);
  });

  test('a reply that is not a JSON-RPC 2.0 response is a runtime failure (exit 1) naming GAW_ERR_BAD_RESPONSE', async () => {
    const replies = [
      { status: 200, body: '{"jsonrpc":"2.0","id":1}' },
      { status: 200, body: '{"jsonrpc":"2.0","id":1,"error":"oops"}' },
      { status: 204, body: '' },
    ];
    let next = 0;
    const fake = createHttpServer((req, res) => {
      const { status, body } = replies[next++]!;
      req.resume();
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/api`;
    try {
      const expected = [/neither result nor error/, /the error member is not an object/, /HTTP 204/];
      for (const pattern of expected) {
        // one at a time: each call takes the next reply
        const result = await runGaw(['call', url, 'math_service.plus', '1', '2']);
        assert.equal(result.code, 1, result.stderr);
        assert.equal(result.stdout, '');
        assert.match(result.stderr, pattern);
        assert.match(result.stderr, /\(GAW_ERR_BAD_RESPONSE\)\n$/);
      }
    } finally {
      fake.close();
    }
  });

  test('gaw list --json prints the OpenRPC document, over TCP and through the HTTP bridge alike', async () => {
    const tcp = await runGaw(['list', target, '--json', ...auth()]);
    const http = await runGaw([
      'list',
      `http://127.0.0.1:${server.httpPort}/api`,
      '--json',
      '--http-token-file',
      fx.tokenFile,
    ]);
    assert.equal(tcp.code, 0);
    assert.equal(http.stdout, tcp.stdout);
    const document = JSON.parse(tcp.stdout) as {
      openrpc: string;
      methods: { name: string; params: { name: string }[] }[];
    };
    assert.equal(document.openrpc, '1.2.6');
    assert.deepEqual(
      document.methods.map((m) => [m.name, m.params.map((p) => p.name)]),
      [
        ['math_service.plus', ['a', 'b']],
        ['math_service.multiply', ['a', 'b']],
        ['math_service.divide', ['a', 'b']],
      ],
    );
  });
});
