// `gaw <module>` with metrics: --metrics-port serves GET /metrics on a port of its own (with the
// bridge's token rule when the server has a secret), --metrics puts it on the bridge, and flags
// that cannot work together are usage errors naming them.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GawClient } from '../../src/client/index.js';
import { parsePrometheusText, sampleValue } from '../helpers/prom-text.js';
import { makeSecret } from '../helpers/server-fixtures.js';
import { request } from '../server/http-helpers.js';
import { examplesDir, runGaw, startGaw, stopAll } from './run-gaw.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gaw-metrics-'));
after(() => {
  stopAll();
  rmSync(dir, { recursive: true, force: true });
});
const services = `${examplesDir}services.js`;
const plusOk = { rpc_service: 'math_service', rpc_method: 'plus', outcome: 'ok' };

describe('gaw <module> --metrics-port and --metrics', () => {
  test('--metrics-port serves the server metrics on loopback, behind the token when there is a secret', async () => {
    const secret = makeSecret();
    writeFileSync(path.join(dir, 'secret'), secret);
    writeFileSync(path.join(dir, 'token'), 'scrape-token');
    const server = await startGaw([
      ...[services, '--port', '0', '--secret-file', path.join(dir, 'secret')],
      ...['--metrics-port', '0', '--http-token-file', path.join(dir, 'token')],
    ]);
    const client = new GawClient({ port: server.port, secret, retries: 0 });
    try {
      const url = new URL(server.started.metrics as string);
      assert.equal(url.hostname, '127.0.0.1');
      assert.equal(url.pathname, '/metrics');
      const port = Number(url.port);
      await client.call('math_service.plus', [1, 2]);
      assert.equal((await request(port, { method: 'GET', path: '/metrics' })).status, 401);
      const reply = await request(port, {
        method: 'GET',
        path: '/metrics',
        headers: { Authorization: 'Bearer scrape-token' },
      });
      assert.equal(reply.status, 200);
      const families = parsePrometheusText(reply.body);
      assert.equal(sampleValue(families, 'rpc_server_duration_seconds_count', plusOk), 1);
      assert.equal(sampleValue(families, 'gaw_server_handshakes_total', { result: 'accepted' }), 1);
      assert.equal((await request(port, { method: 'GET', path: '/api' })).status, 404);
    } finally {
      await client.close();
      server.child.kill('SIGTERM');
      assert.equal((await server.exited).code, 0);
    }
  });

  test('--metrics serves /metrics on the HTTP bridge', async () => {
    const server = await startGaw([services, '--port', '0', '--http-port', '0', '--metrics']);
    const client = new GawClient({ port: server.port, retries: 0 });
    try {
      await client.call('math_service.plus', [2, 3]);
      const reply = await request(server.httpPort!, { method: 'GET', path: '/metrics' });
      assert.equal(reply.status, 200);
      assert.equal(sampleValue(parsePrometheusText(reply.body), 'rpc_server_duration_seconds_count', plusOk), 1);
    } finally {
      await client.close();
      server.child.kill('SIGTERM');
      assert.equal((await server.exited).code, 0);
    }
  });

  test('flags that cannot work are usage errors naming them', async () => {
    const secret = path.join(dir, 'secret');
    writeFileSync(secret, makeSecret());
    const cases: [string[], RegExp][] = [
      [['--metrics-host', '127.0.0.1'], /--metrics-host needs --metrics-port/],
      [
        ['--metrics-port', '0', '--secret-file', secret],
        /the metrics port needs a bearer token when the server has a secret/,
      ],
      [
        ['--metrics-port', '0', '--metrics-host', '0.0.0.0'],
        /refusing to serve \/metrics on 0\.0\.0\.0:0 without a bearer token/,
      ],
      [['--metrics-port', '70000'], /metrics-port/],
    ];
    for (const [flags, message] of cases) {
      const result = await runGaw([services, '--port', '0', ...flags]);
      assert.equal(result.code, 2, `${flags.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});
