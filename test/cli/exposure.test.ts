// Serving without a secret: a warning at start on loopback, and a refusal on any other address
// unless --insecure (or, for the bridge alone, --http-open) asks for it. Real child processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopbackHost } from '../../src/cli/exposure.js';
import { generateSecret } from '../../src/cli/index.js';
import { useFixtureModules } from './fixture-modules.js';
import { examplesDir, runGaw, startGaw } from './run-gaw.js';
import type { StartedGaw } from './run-gaw.js';

const fx = useFixtureModules(generateSecret(), generateSecret(), 'exposure-token');
const services = `${examplesDir}services.js`;

/** Stops a started gaw and returns every record it logged. */
async function stop(server: StartedGaw): Promise<Record<string, any>[]> {
  server.child.kill('SIGTERM');
  assert.equal((await server.exited).code, 0);
  return server.records;
}

const isWarning = (r: Record<string, any>) => r.level === 'warn' && Array.isArray(r.unauthenticated);

test('loopback names and addresses are told apart from everything else', () => {
  for (const host of [
    '127.0.0.1',
    '127.8.9.10',
    'localhost',
    'LOCALHOST',
    'api.localhost',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
  ])
    assert.equal(isLoopbackHost(host), true, host);
  for (const host of [
    '0.0.0.0',
    '::',
    '',
    '10.0.0.5',
    '128.0.0.1',
    'example.com',
    'localhost.example.com',
    '::ffff:10.0.0.1',
    '::2',
  ])
    assert.equal(isLoopbackHost(host), false, host);
});

test('serving without a secret on 0.0.0.0 is refused, naming --insecure; with --insecure it serves and warns', async () => {
  const refused = await runGaw([services, '--host', '0.0.0.0', '--port', '0']);
  assert.match(
    refused.stderr,
    /^gaw: refusing to listen on 0\.0\.0\.0:0 without a secret \(the server\): anyone who can reach that address could call every method/,
  );
  assert.match(refused.stderr, /pass --insecure \(GAW_INSECURE=1\)/);
  assert.equal(refused.stdout, '');
  assert.equal(refused.code, 2);

  const server = await startGaw([services, '--host', '0.0.0.0', '--port', '0', '--insecure']);
  const call = await runGaw(['call', `127.0.0.1:${server.port}`, 'math_service.plus', '1', '2']);
  assert.equal(call.stdout, '"hello!: 3"\n', call.stderr);
  const warning = await server.waitForRecord(isWarning);
  assert.deepEqual(warning.unauthenticated, [`the server on 0.0.0.0:${server.port} (no secret)`]);
  assert.match(warning.msg, /anyone who can connect can call every method; make a secret with `gaw keygen`/);
  await stop(server);
});

test('serving without a secret on loopback warns at start; with a secret and a token nothing is said', async () => {
  const open = await startGaw([services, '--port', '0', '--http-port', '0']);
  const warning = await open.waitForRecord(isWarning);
  assert.deepEqual(warning.unauthenticated, [
    `the server on 127.0.0.1:${open.port} (no secret)`,
    `the HTTP bridge on 127.0.0.1:${open.httpPort} (no bearer token)`,
  ]);
  assert.match(warning.msg, /on loopback: every local user and program/);
  await stop(open);

  const closed = await startGaw([
    services,
    '--port',
    '0',
    '--secret-file',
    fx.secretFile,
    '--http-port',
    '0',
    '--http-token-file',
    fx.tokenFile,
  ]);
  assert.equal((await stop(closed)).filter(isWarning).length, 0);
});

test('an HTTP bridge without a token on 0.0.0.0 is refused unless --insecure or --http-open says so', async () => {
  const refused = await runGaw([services, '--port', '0', '--http-port', '0', '--http-host', '0.0.0.0']);
  assert.match(
    refused.stderr,
    /refusing to listen on 0\.0\.0\.0:0 without a bearer token \(the HTTP bridge\).*--insecure/,
  );
  assert.equal(refused.code, 2);
  const opened = await startGaw([
    services,
    '--port',
    '0',
    '--secret-file',
    fx.secretFile,
    '--http-port',
    '0',
    '--http-host',
    '0.0.0.0',
    '--http-open',
  ]);
  const warning = await opened.waitForRecord(isWarning);
  assert.deepEqual(warning.unauthenticated, [`the HTTP bridge on 0.0.0.0:${opened.httpPort} (no bearer token)`]);
  assert.match(warning.msg, /give it a token with --http-token-file/);
  await stop(opened);
});

test('gaw bridge without a token on 0.0.0.0 is refused; GAW_INSECURE=1 lets it serve', async () => {
  const refused = await runGaw(['bridge', '--to', '127.0.0.1:1', '--host', '0.0.0.0', '--port', '0']);
  assert.match(refused.stderr, /refusing to listen on 0\.0\.0\.0:0 without a bearer token \(the bridge\).*--insecure/);
  assert.equal(refused.code, 2);
  const bridge = await startGaw(['bridge', '--to', '127.0.0.1:1', '--host', '0.0.0.0', '--port', '0'], {
    env: { GAW_INSECURE: '1' },
  });
  assert.deepEqual((await bridge.waitForRecord(isWarning)).unauthenticated, [
    `the bridge on 0.0.0.0:${bridge.port} (no bearer token)`,
  ]);
  await stop(bridge);
});
