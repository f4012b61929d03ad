import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generateSecret } from '../../src/cli/index.js';
import { useFixtureModules } from './fixture-modules.js';
import { examplesDir, rootDir, runGaw, runScript, startGaw, startScript } from './run-gaw.js';

const secret = generateSecret();
const fx = useFixtureModules(secret, generateSecret(), 'examples-test-token');

describe('the examples', () => {
  test('examples/client.js calls the encrypted demo services and gets a MathResult back', async () => {
    const server = await startGaw([
      `${examplesDir}services.js`,
      '--port',
      '0',
      '--encrypt',
      '--secret-file',
      fx.secretFile,
    ]);
    try {
      const client = await runScript(`${examplesDir}client.js`, [], {
        env: { GAW_PORT: String(server.port), GAW_SECRET: secret },
      });
      assert.equal(client.stderr, '');
      assert.equal(client.stdout, "hello!: 30\nhello!: 3\ntrue MathResult { header: 'hello!', result: 200 }\n");
      assert.equal(client.code, 0);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  test('examples/gateway.js serves a method that calls math_service through a GawClient', async () => {
    const math = await startGaw([`${examplesDir}services.js`, '--port', '0', '--kwargs', '{"hello": "from math"}']);
    const gateway = await startGaw([
      `${examplesDir}gateway.js`,
      '--port',
      '0',
      '--kwargs',
      JSON.stringify({ math: `127.0.0.1:${math.port}` }),
    ]);
    try {
      const result = await runGaw(['call', `127.0.0.1:${gateway.port}`, 'gateway.rectangle', 'width=3', 'height=4']);
      assert.equal(result.stdout, '{"width":3,"height":4,"area":12,"greeting":"from math"}\n', result.stderr);
      assert.equal(result.code, 0);
    } finally {
      gateway.child.kill('SIGTERM');
      math.child.kill('SIGTERM');
      assert.equal((await gateway.exited).code, 0);
      assert.equal((await math.exited).code, 0);
    }
  });

  test('examples/hello.js answers the bare method say_hello over the HTTP bridge, as curl would call it', async () => {
    const server = await startGaw([`${examplesDir}hello.js`, '--port', '0', '--http-port', '0']);
    try {
      const response = await fetch(`http://127.0.0.1:${server.httpPort}/api`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":1,"method":"say_hello","params":["world"]}',
      });
      assert.deepEqual(await response.json(), { jsonrpc: '2.0', id: 1, result: 'hello world' });
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  test('examples/demo.js (npm start) serves encrypted with the bridge and prints the three ways to call it, which work', async () => {
    const demo = await startScript(`${examplesDir}demo.js`, [], { env: { GAW_PORT: '0', GAW_HTTP_PORT: '0' } });
    try {
      assert.equal(demo.started.suite, 'cbc');
      await demo.waitForStderr('Stop with Ctrl-C');
      const instructions = demo.stderr();
      assert.match(
        instructions,
        new RegExp(
          `npx gaw call 127\\.0\\.0\\.1:${demo.port} math_service\\.plus 10 20 --secret-file \\.gaw-demo/secret --encrypt`,
        ),
      );
      assert.match(instructions, new RegExp(`GAW_PORT=${demo.port} node examples/client\\.js`));
      assert.match(instructions, /Authorization: Bearer \$\(cat \.gaw-demo\/http-token\)/);

      const call = await runGaw([
        'call',
        `127.0.0.1:${demo.port}`,
        'math_service.plus',
        '10',
        '20',
        '--secret-file',
        '.gaw-demo/secret',
        '--encrypt',
      ]);
      assert.equal(call.stdout, '"hello!: 30"\n');
      const client = await runScript(`${examplesDir}client.js`, [], { env: { GAW_PORT: String(demo.port) } });
      assert.equal(client.code, 0, client.stderr);
      const token = readFileSync(`${rootDir}.gaw-demo/http-token`, 'utf8').trim();
      const response = await fetch(`http://127.0.0.1:${demo.httpPort}/api`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: '{"jsonrpc":"2.0","id":1,"method":"math_service.multiply","params":[10,20]}',
      });
      assert.deepEqual(await response.json(), {
        jsonrpc: '2.0',
        id: 1,
        result: { _t: 'MathResult', _v: { header: 'hello!', result: 200 } },
      });
    } finally {
      demo.child.kill('SIGTERM');
      assert.equal((await demo.exited).code, 0);
    }
  });
});
