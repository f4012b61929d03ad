// GAW_<OPTION> environment variables: every option of `gaw <module>`, `gaw call`, `gaw list` and
// `gaw bridge` can come from the environment, a flag on the command line wins over its variable,
// a bad value is refused naming the variable, and a variable meant for another command is ignored.
// Real child processes and sockets throughout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSecret } from '../../src/cli/index.js';
import { useFixtureModules } from './fixture-modules.js';
import { examplesDir, runGaw, startGaw } from './run-gaw.js';
import type { StartedGaw } from './run-gaw.js';

const secret = generateSecret();
const token = 'env-options-token';
const fx = useFixtureModules(secret, generateSecret(), token);
const services = `${examplesDir}services.js`;

describe('gaw <module> from the environment', () => {
  let server: StartedGaw;
  before(async () => {
    server = await startGaw([services], {
      env: {
        GAW_PORT: '0',
        GAW_SECRET_FILE: fx.secretFile,
        GAW_ENCRYPT: '1',
        GAW_HTTP_PORT: '0',
        GAW_HTTP_TOKEN_FILE: fx.tokenFile,
        GAW_KWARGS: '{"hello": "from env"}',
        GAW_SERVICE: 'math_service',
        GAW_LOG_LEVEL: 'debug',
      },
    });
  });
  after(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
  });

  test('takes the port, secret file, encryption, bridge, token, kwargs, service and log level from GAW_ variables', async () => {
    assert.equal(server.started.suite, 'cbc');
    assert.equal(typeof server.httpPort, 'number');
    const call = await runGaw(['call', `127.0.0.1:${server.port}`, 'math_service.plus', '1', '2'], {
      env: { GAW_SECRET_FILE: fx.secretFile, GAW_ENCRYPT: 'true' },
    });
    assert.equal(call.stdout, '"from env: 3"\n', call.stderr);
    await server.waitForRecord((r) => r.msg === 'rpc call' && r.level === 'debug');
    const response = await fetch(`http://127.0.0.1:${server.httpPort}/api`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: '{"jsonrpc":"2.0","id":1,"method":"math_service.plus","params":[2,2]}',
    });
    assert.deepEqual(await response.json(), { jsonrpc: '2.0', id: 1, result: 'from env: 4' });
  });

  test('gaw list and gaw call read GAW_JSON, GAW_PARAMS and GAW_TIMEOUT_MS, and words on the command line win over GAW_PARAMS', async () => {
    const env = { GAW_SECRET: secret, GAW_ENCRYPT: 'yes' };
    const list = await runGaw(['list', `127.0.0.1:${server.port}`], { env: { ...env, GAW_JSON: '1' } });
    assert.equal((JSON.parse(list.stdout) as { methods: unknown[] }).methods.length, 3, list.stderr);
    const fromEnv = await runGaw(['call', `127.0.0.1:${server.port}`, 'math_service.plus'], {
      env: { ...env, GAW_PARAMS: '[10, 20]', GAW_TIMEOUT_MS: '5000' },
    });
    assert.equal(fromEnv.stdout, '"from env: 30"\n', fromEnv.stderr);
    const words = await runGaw(['call', `127.0.0.1:${server.port}`, 'math_service.plus', '1', '1'], {
      env: { ...env, GAW_PARAMS: '[10, 20]' },
    });
    assert.equal(words.stdout, '"from env: 2"\n', words.stderr);
  });

  test('a flag wins over its variable, and --secret-file over GAW_SECRET', async () => {
    const call = await runGaw(
      [
        'call',
        `127.0.0.1:${server.port}`,
        'math_service.plus',
        '1',
        '2',
        '--secret-file',
        fx.secretFile,
        '--timeout-ms',
        '5000',
      ],
      { env: { GAW_SECRET: generateSecret(), GAW_ENCRYPT: '1', GAW_TIMEOUT_MS: 'not a number' } },
    );
    assert.equal(call.stdout, '"from env: 3"\n', call.stderr);
    const other = await startGaw([services, '--port', '0', '--kwargs', '{"hello": "from the flag"}'], {
      env: { GAW_PORT: String(server.port), GAW_KWARGS: '{"hello": "from env"}', GAW_ARGS: '["from env"]' },
    });
    try {
      assert.notEqual(other.port, server.port, '--port 0 won over GAW_PORT (a taken port)');
      const plain = await runGaw(['call', `127.0.0.1:${other.port}`, 'math_service.plus', '1', '2']);
      assert.equal(plain.stdout, '"from the flag: 3"\n', plain.stderr);
    } finally {
      other.child.kill('SIGTERM');
      await other.exited;
    }
  });
});

test('gaw bridge takes --to and its port from GAW_TO and GAW_PORT', async () => {
  const math = await startGaw([services, '--port', '0']);
  const bridge = await startGaw(['bridge'], { env: { GAW_TO: `127.0.0.1:${math.port}`, GAW_PORT: '0' } });
  try {
    const call = await runGaw(['call', `http://127.0.0.1:${bridge.port}/api`, 'math_service.plus', '5', '6']);
    assert.equal(call.stdout, '"hello!: 11"\n', call.stderr);
  } finally {
    bridge.child.kill('SIGTERM');
    math.child.kill('SIGTERM');
    await Promise.all([bridge.exited, math.exited]);
  }
});

test('a bad value from the environment is a usage error naming the variable', async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ GAW_PORT: 'abc' }, /^gaw: GAW_PORT must be an integer from 0 to 65535, not "abc"/],
    [{ GAW_SUITE: 'rot13' }, /^gaw: GAW_SUITE must be one of none, sign, cbc, secretbox, not "rot13"/],
    [{ GAW_ENCRYPT: 'maybe' }, /^gaw: GAW_ENCRYPT must be 1, true, yes or on, or 0, false, no or off/],
    [{ GAW_KWARGS: '{nope' }, /^gaw: GAW_KWARGS is not valid JSON/],
    [{ GAW_SECRET: 'c2hvcnQ=' }, /the secret from GAW_SECRET .*16, 24 or 32 bytes/],
    [{ GAW_SECRET: secret, GAW_SECRET_FILE: fx.secretFile }, /give GAW_SECRET or GAW_SECRET_FILE, not both/],
  ];
  for (const [env, message] of cases) {
    const result = await runGaw([services], { env: { GAW_PORT: '0', ...env }, timeoutMs: 5_000 });
    assert.match(result.stderr, message, JSON.stringify(env));
    assert.equal(result.code, 2, JSON.stringify(env));
  }
});

test("variables meant for another command or an option left off do not get in a command's way", async () => {
  const server = await startGaw([services], {
    env: { GAW_PORT: '0', GAW_HTTP_TOKEN: token, GAW_LEGACY_HOST: '127.0.0.1', GAW_TO: '127.0.0.1:1' },
  });
  try {
    assert.equal(server.httpPort, undefined, 'no bridge without GAW_HTTP_PORT, and no error about GAW_HTTP_TOKEN');
    const call = await runGaw(['call', `127.0.0.1:${server.port}`, 'math_service.plus', '1', '2'], {
      env: { GAW_PORT: '5555', GAW_HTTP_PORT: '8000', GAW_KWARGS: '{}', GAW_HOST: '0.0.0.0' },
    });
    assert.equal(call.stdout, '"hello!: 3"\n', call.stderr);
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
});

test('--help of every command says that options can be set as GAW_<OPTION>', async () => {
  for (const args of [
    ['./services.js', '--help'],
    ['call', '--help'],
    ['list', '--help'],
    ['bridge', '--help'],
  ]) {
    const help = await runGaw(args);
    assert.match(help.stdout, /set as GAW_<OPTION>/, args.join(' '));
    assert.match(help.stdout, /GAW_SECRET_FILE=secret/, args.join(' '));
  }
});
