import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSecret } from '../../src/cli/index.js';
import { useFixtureModules } from './fixture-modules.js';
import { examplesDir, runGaw, startGaw } from './run-gaw.js';

const secret = generateSecret();
const token = 'bridge-test-token';
const fx = useFixtureModules(secret, generateSecret(), token);

function post(port: number, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/api`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('gaw bridge', () => {
  test('forwards HTTP JSON-RPC to an encrypted server, class tags untouched, behind its bearer token', async () => {
    const server = await startGaw([
      `${examplesDir}services.js`,
      '--port',
      '0',
      '--encrypt',
      '--secret-file',
      fx.secretFile,
    ]);
    const bridge = await startGaw([
      'bridge',
      '--to',
      `127.0.0.1:${server.port}`,
      '--port',
      '0',
      '--encrypt',
      '--secret-file',
      fx.secretFile,
      '--http-token-file',
      fx.tokenFile,
    ]);
    try {
      assert.equal(bridge.started.to, `127.0.0.1:${server.port}`);
      assert.equal(bridge.started.http, `http://127.0.0.1:${bridge.port}/api`);
      const auth = { Authorization: `Bearer ${token}` };

      const single = await post(
        bridge.port,
        { jsonrpc: '2.0', id: 1, method: 'math_service.multiply', params: [6, 7] },
        auth,
      );
      assert.equal(single.status, 200);
      assert.deepEqual(await single.json(), {
        jsonrpc: '2.0',
        id: 1,
        result: { _t: 'MathResult', _v: { header: 'hello!', result: 42 } },
      });

      const batch = await post(
        bridge.port,
        [
          { jsonrpc: '2.0', id: 'p', method: 'math_service.plus', params: { a: 1, b: 2 } },
          { jsonrpc: '2.0', method: 'math_service.plus', params: [0, 0] },
          { jsonrpc: '2.0', id: 'd', method: 'math_service.divide', params: [1, 0] },
        ],
        auth,
      );
      assert.deepEqual(await batch.json(), [
        { jsonrpc: '2.0', id: 'p', result: 'hello!: 3' },
        { jsonrpc: '2.0', id: 'd', error: { code: 1001, message: 'division by zero', data: { a: 1, b: 0 } } },
      ]);

      const notification = await post(
        bridge.port,
        { jsonrpc: '2.0', method: 'math_service.plus', params: [1, 1] },
        auth,
      );
      assert.equal(notification.status, 204);

      const denied = await post(bridge.port, { jsonrpc: '2.0', id: 1, method: 'math_service.plus', params: [1, 1] });
      assert.equal(denied.status, 401);

      const call = await runGaw(['call', `http://127.0.0.1:${bridge.port}/api`, 'math_service.multiply', '2', '5'], {
        env: { GAW_HTTP_TOKEN: token },
      });
      assert.equal(call.stdout, '{"_t":"MathResult","_v":{"header":"hello!","result":10}}\n');
    } finally {
      bridge.child.kill('SIGTERM');
      server.child.kill('SIGTERM');
      assert.equal((await bridge.exited).code, 0);
      assert.equal((await server.exited).code, 0);
    }
  });

  test('bridge usage errors exit with code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['bridge', '--port', '0'], /Missing required argument: to/],
      [['bridge', '--to', 'http://127.0.0.1:1/api'], /--to must be a gaw server's host:port/],
      [['bridge', '--to', '127.0.0.1:5555', '--secret-file', fx.secretFile], /the bridge needs a bearer token/],
    ];
    const results = await Promise.all(cases.map(([args]) => runGaw(args)));
    cases.forEach(([, expected], i) => {
      assert.equal(results[i]!.code, 2, results[i]!.stderr);
      assert.match(results[i]!.stderr, expected);
    });
  });
});
