// `gaw <module> --legacy-port`: the same services, reachable by Python Gaw 0.7 clients on their own
// port (here our own LegacyClient, which speaks the same bytes; test/legacy checks them against
// Python's transcript), with the server's secret and encrypt setting.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSecret } from '../../src/cli/index.js';
import { LegacyClient } from '../../src/legacy/index.js';
import { examplesDir, startGaw, stopAll } from './run-gaw.js';

after(() => stopAll());

test('--legacy-port serves the module to Python Gaw clients on a port of its own, encrypted like the main port', async () => {
  const secret = generateSecret(32);
  const server = await startGaw(
    [`${examplesDir}services.js`, '--kwargs', '{"hello": "py"}', '--port', '0', '--encrypt', '--legacy-port', '0'],
    { env: { GAW_SECRET: secret } },
  );
  const legacyPort = server.started.legacyPort as number;
  assert.ok(
    Number.isInteger(legacyPort) && legacyPort > 0 && legacyPort !== server.port,
    'the legacy port is logged and is not the GAWP port',
  );
  const client = new LegacyClient({ host: '127.0.0.1', port: legacyPort, secret, encrypt: true });
  try {
    assert.equal(await client.call('math_service.plus', [10, 20]), 'py: 30');
    assert.equal(await client.call('math_service.plus', { a: 1, b: 2 }), 'py: 3');
  } finally {
    await client.close();
  }
  const wrong = new LegacyClient({
    host: '127.0.0.1',
    port: legacyPort,
    secret: generateSecret(32),
    encrypt: true,
    timeoutMs: 5_000,
  });
  try {
    await assert.rejects(
      wrong.call('math_service.plus', [1, 2]),
      (err: { code?: string }) => typeof err.code === 'string' && err.code.startsWith('GAW_ERR_'),
    );
  } finally {
    await wrong.close();
  }
});
