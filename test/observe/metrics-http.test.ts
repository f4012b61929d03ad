// GET /metrics on the HTTP bridge: Prometheus text of the server's Registry (calls over the bridge
// and over GAWP alike), under the bridge's bearer token rule and Host check; absent without metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawClient } from '../../src/client/index.js';
import { entrypoint } from '../../src/server/index.js';
import { parsePrometheusText, sampleValue } from '../helpers/prom-text.js';
import { makeSecret, startServer } from '../helpers/server-fixtures.js';
import { postJson, request } from '../server/http-helpers.js';

class Shop {
  static serviceName = 'shop';
  @entrypoint echo(x: unknown): unknown {
    return x;
  }
}

const echoOk = { rpc_system: 'jsonrpc', rpc_service: 'shop', rpc_method: 'echo', outcome: 'ok' };

test('GET /metrics needs the bridge token, then serves Prometheus text counting bridge and GAWP calls', async (t) => {
  const secret = makeSecret();
  const token = 'metrics-token-1';
  const server = await startServer({ secret, metrics: true, http: { port: 0, token } }, Shop);
  const client = new GawClient({ port: server.address.port, secret });
  t.after(async () => {
    await client.close();
    await server.close();
  });
  const port = server.httpAddress!.port;
  const auth = { Authorization: `Bearer ${token}` };
  assert.equal(await client.call('shop.echo', ['a']), 'a');
  const posted = await postJson(port, { jsonrpc: '2.0', id: 1, method: 'shop.echo', params: ['b'] }, { headers: auth });
  assert.equal(posted.body, '{"jsonrpc":"2.0","id":1,"result":"b"}');

  const bare = await request(port, { method: 'GET', path: '/metrics' });
  assert.equal(bare.status, 401);
  assert.equal(bare.headers['www-authenticate'], 'Bearer');
  assert.doesNotMatch(bare.body, /rpc_server/);
  const wrong = await request(port, { method: 'GET', path: '/metrics', headers: { Authorization: 'Bearer nope' } });
  assert.equal(wrong.status, 401);

  const reply = await request(port, { method: 'GET', path: '/metrics', headers: auth });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  const families = parsePrometheusText(reply.body);
  assert.equal(sampleValue(families, 'rpc_server_duration_seconds_count', echoOk), 2);
  assert.equal(sampleValue(families, 'gaw_server_connections', { state: 'open' }), 1);

  const head = await request(port, { method: 'HEAD', path: '/metrics', headers: auth });
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  const posting = await request(port, { method: 'POST', path: '/metrics', headers: auth });
  assert.equal(posting.status, 405);
  assert.equal(posting.headers.allow, 'GET, HEAD');
  const foreign = await request(port, { method: 'GET', path: '/metrics', headers: { ...auth, Host: 'evil.example' } });
  assert.equal(foreign.status, 421);
});

test('an open bridge serves /metrics without a token, and a server without metrics has no /metrics', async (t) => {
  const open = await startServer({ metrics: true, http: { port: 0 } }, Shop);
  const plain = await startServer({ http: { port: 0 } }, Shop);
  t.after(() => Promise.all([open.close(), plain.close()]));
  const reply = await request(open.httpAddress!.port, { method: 'GET', path: '/metrics' });
  assert.equal(reply.status, 200);
  assert.equal(sampleValue(parsePrometheusText(reply.body), 'gaw_server_connections', { state: 'open' }), 0);
  const none = await request(plain.httpAddress!.port, { method: 'GET', path: '/metrics' });
  assert.equal(none.status, 404);
});
