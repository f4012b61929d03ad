import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { generateSecret } from '../../src/cli/index.js';
import { useFixtureModules } from './fixture-modules.js';
import { examplesDir, runGaw, startGaw } from './run-gaw.js';

const secret = generateSecret();
const token = 'serve-test-token';
const fx = useFixtureModules(secret, generateSecret(), token);

describe('gaw <module>', () => {
  test('serves the example with encryption and the HTTP bridge; call, list and HTTP reach it, and SIGTERM stops it with exit code 0', async () => {
    const server = await startGaw([
      `${examplesDir}services.js`,
      '--kwargs',
      '{"hello": "hi"}',
      '--port',
      '0',
      '--encrypt',
      '--secret-file',
      fx.secretFile,
      '--http-port',
      '0',
      '--http-token-file',
      fx.tokenFile,
      '--log-level',
      'debug',
    ]);
    const { started, port, httpPort } = server;
    assert.equal(started.address, `127.0.0.1:${port}`);
    assert.equal(started.suite, 'cbc');
    assert.deepEqual(started.codecs, ['json', 'msgpack']);
    assert.deepEqual(started.services, { math_service: ['plus', 'multiply', 'divide'] });
    assert.equal(started.http, `http://127.0.0.1:${httpPort}/api`);

    const plus = await runGaw([
      'call',
      `127.0.0.1:${port}`,
      'math_service.plus',
      '10',
      '20',
      '--secret-file',
      fx.secretFile,
      '--encrypt',
    ]);
    assert.equal(plus.stderr, '');
    assert.equal(plus.stdout, '"hi: 30"\n');
    assert.equal(plus.code, 0);
    const logged = await server.waitForRecord((r) => r.msg === 'rpc call' && r.method === 'math_service.plus');
    assert.equal(logged.level, 'debug');

    const list = await runGaw(['list', `127.0.0.1:${port}`, '--encrypt'], { env: { GAW_SECRET: secret } });
    assert.equal(list.stdout, 'math_service\n  plus(a, b)\n  multiply(a, b)\n  divide(a, b)\n');
    assert.equal(list.code, 0);

    const response = await fetch(`http://127.0.0.1:${httpPort}/api`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'math_service.multiply', params: [6, 7] }),
    });
    assert.deepEqual(await response.json(), {
      jsonrpc: '2.0',
      id: 7,
      result: { _t: 'MathResult', _v: { header: 'hi', result: 42 } },
    });

    server.child.kill('SIGTERM');
    const exit = await server.exited;
    assert.equal(exit.code, 0);
    assert.ok(server.records.some((r) => r.msg === 'gaw stopped'));
    const everything = JSON.stringify(server.records) + exit.stderr;
    assert.ok(!everything.includes(secret), 'the secret appears in the output');
    assert.ok(!everything.includes(token), 'the HTTP token appears in the output');
  });

  test('binds --kwargs by constructor parameter name in a CommonJS module, and serves only the --service named', async () => {
    const server = await startGaw([
      fx.commonjs,
      '--port',
      '0',
      '--kwargs',
      '{"step": 5, "start": 10}',
      '--service',
      'counter',
    ]);
    try {
      assert.deepEqual(server.started.services, { counter: ['next'] });
      const first = await runGaw(['call', `127.0.0.1:${server.port}`, 'counter.next']);
      const second = await runGaw(['call', `127.0.0.1:${server.port}`, 'counter.next']);
      assert.deepEqual([first.stdout, second.stdout], ['15\n', '20\n']);
    } finally {
      server.child.kill('SIGTERM');
      assert.equal((await server.exited).code, 0);
    }
  });

  test('passes --args by position, to every service when several are served', async () => {
    const server = await startGaw([fx.commonjs, '--port', '0', '--args', '[100]']);
    try {
      assert.deepEqual(server.started.services, { counter: ['next'], echo: ['echo'] });
      const next = await runGaw(['call', `127.0.0.1:${server.port}`, 'counter.next']);
      assert.equal(next.stdout, '101\n');
      const echo = await runGaw(['call', `127.0.0.1:${server.port}`, 'echo.echo', 'value={"nested": [1, "two"]}']);
      assert.equal(echo.stdout, '{"nested":[1,"two"]}\n');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  test('on SIGTERM, calls already in flight complete before the process exits with code 0', async () => {
    const server = await startGaw([fx.slow, '--port', '0']);
    const target = `127.0.0.1:${server.port}`;
    const calls = ['a', 'b', 'c'].map((label) => runGaw(['call', target, 'slow.hold', label]));
    await server.waitForStderr('hold started', 3);
    server.child.kill('SIGTERM');
    await server.waitForRecord((r) => r.msg?.startsWith('stopping'));
    server.child.kill('SIGUSR2'); // the fixture's signal to let the held calls return
    const results = await Promise.all(calls);
    assert.deepEqual(
      results.map((r) => [r.code, r.stdout]),
      [
        [0, '"released a"\n'],
        [0, '"released b"\n'],
        [0, '"released c"\n'],
      ],
    );
    const exit = await server.exited;
    assert.equal(exit.code, 0);
  });

  test('a second signal exits at once with code 1, without waiting for calls in flight', async () => {
    const server = await startGaw([fx.slow, '--port', '0']);
    const call = runGaw(['call', `127.0.0.1:${server.port}`, 'slow.hold', 'x']);
    await server.waitForStderr('hold started x');
    server.child.kill('SIGTERM');
    await server.waitForRecord((r) => r.msg?.startsWith('stopping'));
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    assert.equal(exit.code, 1);
    assert.ok(server.records.some((r) => r.msg?.startsWith('second signal')));
    const result = await call;
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^gaw: .*closed/);
  });

  test('a taken port is a clear error with exit code 1', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const result = await runGaw([`${examplesDir}services.js`, '--port', String(port)]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is taken .*GAW_ERR_ADDRESS_IN_USE`),
      );
    } finally {
      blocker.close();
    }
  });

  test('usage errors exit with code 2 and a message naming the problem', async () => {
    const services = `${examplesDir}services.js`;
    const cases: [string[], RegExp][] = [
      [[], /give a module to serve or a command/],
      [[services, '--bogus-option'], /Unknown argument: bogus-option/],
      [[services, '--kwargs', '{not json'], /--kwargs is not valid JSON/],
      [[services, '--kwargs', '[1]'], /--kwargs must be a JSON object/],
      [
        [services, '--kwargs', '{"helo": 1}'],
        /--kwargs names "helo", which no selected constructor takes: math_service \(hello\?\)/,
      ],
      [[services, '--args', '["x"]', '--kwargs', '{"hello": "x"}'], /--args or --kwargs, not both/],
      [[fx.commonjs, '--service', 'nope'], /unknown --service "nope"; .* offers: counter, echo/],
      [[services, '--port', '70000'], /--port must be an integer from 0 to 65535/],
      [[services, '--encrypt'], /--encrypt needs a secret/],
      [[services, '--secret', 'c2hvcnQ='], /must decode to 16, 24 or 32 bytes/],
      [[services, '--secret-file', `${fx.dir}/absent`], /cannot read --secret-file .*: no such file/],
      [[services, '--secret-file', fx.secretFile, '--http-port', '0'], /the HTTP bridge needs a bearer token/],
      [[services, '--http-token-file', fx.tokenFile], /--http-token-file needs --http-port/],
    ];
    const results = await Promise.all(cases.map(([args]) => runGaw(args)));
    cases.forEach(([args, expected], i) => {
      const result = results[i]!;
      assert.equal(result.code, 2, `gaw ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, expected);
      assert.equal(result.stdout, '');
    });
  });

  test('a missing module, a module that throws while loading and one with no services exit with code 2', async () => {
    const cases: [string, RegExp][] = [
      [
        './no/such/module.js',
        /cannot find the module "\.\/no\/such\/module\.js" \(looked for .*no\/such\/module\.js\)/,
      ],
      [fx.throws, /cannot load the module .*throws\.mjs": Error: the module failed on purpose/],
      [fx.noServices, /exports no service classes .*its exports: NotAService, answer/],
    ];
    const results = await Promise.all(cases.map(([path]) => runGaw([path, '--port', '0'])));
    cases.forEach(([, expected], i) => {
      assert.equal(results[i]!.code, 2, results[i]!.stderr);
      assert.match(results[i]!.stderr, expected);
    });
  });

  test('--help lists every command with examples, and each command has its own help', async () => {
    const top = await runGaw(['--help']);
    assert.equal(top.code, 0);
    for (const text of [
      'gaw <module>',
      'gaw call <target> [method]',
      'gaw list [target]',
      'gaw keygen',
      'gaw bridge',
      'Examples:',
      'GAW_SECRET',
      'Exit codes',
      'process list',
    ]) {
      assert.ok(top.stdout.includes(text), `--help lacks ${text}`);
    }
    const commands = ['call', 'list', 'keygen', 'bridge'];
    const helps = await Promise.all(commands.map((command) => runGaw([command, '--help'])));
    commands.forEach((command, i) => {
      assert.equal(helps[i]!.code, 0);
      assert.match(helps[i]!.stdout, new RegExp(`Examples:\\n  gaw ${command}`));
    });
  });
});
