// Metrics over real sockets: each one moves as calls succeed, fail, time out and are refused, as
// handshakes are accepted, rejected and failed by raw sockets, as frames are refused, as clients
// retry and eject; read back as Prometheus text through a strict parser and checked by value.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { GawClient } from '../../src/client/index.js';
import { HandshakeRejectedError, ServiceError, TimeoutError } from '../../src/errors.js';
import { KeyRing } from '../../src/postoffice/index.js';
import { GawServer, entrypoint } from '../../src/server/index.js';
import type { MetricsRegistry } from '../../src/observe/index.js';
import { projectRoot } from '../helpers/fixtures.js';
import { GawpClient } from '../helpers/gawp-peer.js';
import { RawSocket } from '../helpers/raw-socket.js';
import { parsePrometheusText, sampleValue } from '../helpers/prom-text.js';
import type { Family } from '../helpers/prom-text.js';
import { Gate, makeSecret, startServer } from '../helpers/server-fixtures.js';

class Shop {
  static serviceName = 'shop';
  constructor(readonly gate = new Gate()) {}

  @entrypoint echo(x: unknown): unknown {
    return x;
  }

  @entrypoint refuse(): never {
    throw new ServiceError(4030, 'forbidden');
  }

  @entrypoint crash(): never {
    throw new Error('broken');
  }

  @entrypoint async slow(): Promise<string> {
    await this.gate.promise;
    return 'done';
  }
}

async function scrape(registry: MetricsRegistry | undefined): Promise<Map<string, Family>> {
  assert.ok(registry !== undefined, 'metrics are on');
  return parsePrometheusText(await registry.metrics());
}

/** Scrapes until `name` with `labels` reads `expected` (a sample not there yet reads 0); fails after 5 s. */
async function settled(
  registry: MetricsRegistry | undefined,
  name: string,
  labels: Record<string, string>,
  expected: number,
): Promise<Map<string, Family>> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const families = await scrape(registry);
    const value = sampleValue(families, name, labels, true);
    if (value === expected) return families;
    if (Date.now() > deadline) assert.fail(`${name} ${JSON.stringify(labels)} is ${value}, not ${expected}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function serve(t: TestContext, options: ConstructorParameters<typeof GawServer>[0] = {}, gate = new Gate()) {
  const server = await startServer({ metrics: true, ...options }, [Shop, gate]);
  const client = new GawClient({ port: server.address.port, retries: 0, metrics: true });
  t.after(async () => {
    gate.open();
    client.destroy();
    await server.close();
  });
  return { server, client, gate };
}

const shop = (method: string, extra: Record<string, string> = {}) => ({
  rpc_system: 'jsonrpc',
  rpc_service: 'shop',
  rpc_method: method,
  ...extra,
});

test('the server and client duration histograms count each call by method, outcome and error type', async (t) => {
  const { server, client } = await serve(t);
  for (let i = 0; i < 3; i++) assert.equal(await client.call('shop.echo', [i]), i);
  await assert.rejects(client.call('shop.refuse'), { rpcCode: 4030 });
  await assert.rejects(client.call('shop.crash'), { rpcCode: -32000 });
  await assert.rejects(client.call('shop.nope'), { rpcCode: -32601 });

  const s = await scrape(server.metrics);
  assert.equal(s.get('rpc_server_duration_seconds')?.type, 'histogram');
  const count = (labels: Record<string, string>) => sampleValue(s, 'rpc_server_duration_seconds_count', labels);
  assert.equal(count(shop('echo', { outcome: 'ok' })), 3);
  // An application's own code is one label value; gaw's codes are their own.
  assert.equal(count(shop('refuse', { outcome: 'error', error_type: '_OTHER' })), 1);
  assert.equal(count(shop('crash', { outcome: 'error', error_type: '-32000' })), 1);
  // A method the server does not host is one label value, whatever was asked for.
  const unknown = { rpc_service: '_OTHER', rpc_method: '_OTHER', outcome: 'error', error_type: '-32601' };
  assert.equal(count(unknown), 1);
  const sum = sampleValue(s, 'rpc_server_duration_seconds_sum', shop('echo', { outcome: 'ok' }));
  assert.ok(sum > 0 && sum < 1, `3 echo calls took ${sum} s`);
  assert.equal(sampleValue(s, 'rpc_server_duration_seconds_bucket', shop('echo', { outcome: 'ok', le: '10' })), 3);
  assert.equal(sampleValue(s, 'rpc_server_active_requests', shop('echo')), 0);

  const c = await scrape(client.metrics);
  const clientCount = (labels: Record<string, string>) => sampleValue(c, 'rpc_client_duration_seconds_count', labels);
  assert.equal(clientCount(shop('echo', { outcome: 'ok' })), 3);
  assert.equal(clientCount(shop('refuse', { outcome: 'error', error_type: '_OTHER' })), 1);
  assert.equal(clientCount(shop('crash', { outcome: 'error', error_type: '-32000' })), 1);
  assert.equal(clientCount(shop('nope', { outcome: 'error', error_type: '-32601' })), 1);
});

test('a call in flight shows in the active gauges, and a client timeout is counted by its code', async (t) => {
  const { server, client, gate } = await serve(t);
  // Rejected (and checked) below, after the gauges are read while it waits.
  const late = client.call('shop.slow', [], { timeoutMs: 1_000 }).catch((err: unknown) => err);
  let s = await settled(server.metrics, 'rpc_server_active_requests', shop('slow'), 1);
  assert.equal(sampleValue(await scrape(client.metrics), 'rpc_client_active_requests', shop('slow')), 1);
  const err = await late;
  assert.ok(err instanceof TimeoutError && err.code === 'GAW_ERR_CALL_TIMEOUT', String(err));
  const c = await scrape(client.metrics);
  assert.equal(sampleValue(c, 'rpc_client_active_requests', shop('slow')), 0);
  const timedOut = shop('slow', { outcome: 'error', error_type: 'GAW_ERR_CALL_TIMEOUT' });
  assert.equal(sampleValue(c, 'rpc_client_duration_seconds_count', timedOut), 1);
  assert.ok(sampleValue(c, 'rpc_client_duration_seconds_sum', timedOut) >= 0.9);

  gate.open();
  s = await settled(server.metrics, 'rpc_server_active_requests', shop('slow'), 0);
  assert.equal(sampleValue(s, 'rpc_server_duration_seconds_count', shop('slow', { outcome: 'ok' })), 1);
});

test('connections by state, accepted handshakes and bytes move as clients connect, call, drain and leave', async (t) => {
  const gate = new Gate();
  const server = await startServer({ metrics: true, closeTimeoutMs: 5_000 }, [Shop, gate]);
  const client = new GawClient({ port: server.address.port, retries: 0 });
  t.after(() => {
    gate.open();
    client.destroy();
    return server.close();
  });
  let s = await scrape(server.metrics);
  assert.equal(sampleValue(s, 'gaw_server_connections', { state: 'open' }), 0);
  assert.equal(sampleValue(s, 'gaw_server_handshakes_total', { result: 'accepted' }, true), 0);
  assert.equal(sampleValue(s, 'gaw_server_received_bytes_total'), 0);

  assert.equal(await client.call('shop.echo', ['x']), 'x');
  s = await scrape(server.metrics);
  assert.equal(sampleValue(s, 'gaw_server_connections', { state: 'open' }), 1);
  assert.equal(sampleValue(s, 'gaw_server_connections', { state: 'draining' }), 0);
  assert.equal(sampleValue(s, 'gaw_server_handshakes_total', { result: 'accepted', reason: '' }), 1);
  const received = sampleValue(s, 'gaw_server_received_bytes_total');
  const sent = sampleValue(s, 'gaw_server_sent_bytes_total');
  assert.ok(received > 0 && sent > 0, `received ${received}, sent ${sent}`);

  const big = 'y'.repeat(10_000);
  assert.equal(await client.call('shop.echo', [big]), big);
  s = await scrape(server.metrics);
  assert.ok(sampleValue(s, 'gaw_server_received_bytes_total') >= received + 10_000);
  assert.ok(sampleValue(s, 'gaw_server_sent_bytes_total') >= sent + 10_000);

  // A call in flight while the server closes: its connection is draining until the call ends.
  const slow = client.call('shop.slow');
  await settled(server.metrics, 'rpc_server_active_requests', shop('slow'), 1);
  const closed = server.close();
  s = await settled(server.metrics, 'gaw_server_connections', { state: 'draining' }, 1);
  assert.equal(sampleValue(s, 'gaw_server_connections', { state: 'open' }), 0);
  gate.open();
  assert.equal(await slow, 'done');
  await closed;
  s = await scrape(server.metrics);
  assert.equal(sampleValue(s, 'gaw_server_connections', { state: 'draining' }), 0);
  // Closed connections' bytes stay counted: a counter never goes down.
  assert.ok(sampleValue(s, 'gaw_server_received_bytes_total') >= received + 10_000);
});

test('a raw socket that fails the handshake, and hellos the server rejects, move the handshake counters', async (t) => {
  const secret = makeSecret();
  const server = await startServer({ metrics: true, secret }, Shop);
  t.after(() => server.close());
  const raw = await RawSocket.connect(server.address.port);
  await raw.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  await raw.closed;
  await settled(server.metrics, 'gaw_server_handshakes_total', { result: 'failed', reason: 'not_gawp' }, 1);

  const old = await GawpClient.connect(server.address.port);
  await old.sendHello({ suite: 'sign', version: 9 });
  assert.ok('reject' in (await old.readAnswer()));
  const plain = new GawClient({ port: server.address.port, retries: 0 });
  t.after(() => plain.destroy());
  await assert.rejects(plain.call('shop.echo', [1]), HandshakeRejectedError);

  const wrong = new GawClient({ port: server.address.port, retries: 0, secret: makeSecret() });
  t.after(() => wrong.destroy());
  await assert.rejects(wrong.call('shop.echo', [1]));

  // A wrong secret: the client finds the server's confirm wrong and leaves (noticed by the server a little later).
  const failed = { result: 'failed', reason: 'client_left' };
  const s = await settled(server.metrics, 'gaw_server_handshakes_total', failed, 1);
  assert.equal(sampleValue(s, 'gaw_server_handshakes_total', { result: 'rejected', reason: 'version' }), 1);
  assert.equal(sampleValue(s, 'gaw_server_handshakes_total', { result: 'rejected', reason: 'suite' }), 1);
  assert.equal(sampleValue(s, 'gaw_server_handshakes_total', { result: 'failed', reason: 'not_gawp' }), 1);
  assert.equal(sampleValue(s, 'gaw_server_handshakes_total', { result: 'accepted' }, true), 0);
});

test('requests refused unrun for overload are counted, and the client sees their code', async (t) => {
  const gate = new Gate();
  const { server, client } = await serve(t, { maxInFlight: 1, maxWaitingBytes: 0 }, gate);
  const running = client.call('shop.slow');
  await settled(server.metrics, 'rpc_server_active_requests', shop('slow'), 1);
  await assert.rejects(client.call('shop.echo', [1]), { rpcCode: -32002 });
  const s = await scrape(server.metrics);
  assert.equal(sampleValue(s, 'gaw_server_requests_refused_total', { reason: 'overloaded' }), 1);
  assert.equal(sampleValue(s, 'rpc_server_duration_seconds_count', shop('echo'), true), 0);
  const c = await scrape(client.metrics);
  assert.equal(sampleValue(c, 'rpc_client_duration_seconds_count', shop('echo', { error_type: '-32002' })), 1);
  gate.open();
  assert.equal(await running, 'done');
});

test('a frame that fails authentication is counted as refused, by reason', async (t) => {
  const secret = makeSecret();
  const server = await startServer({ metrics: true, secret }, Shop);
  t.after(() => server.close());
  const peer = await GawpClient.handshake(server.address.port, new KeyRing(secret).get(0), { suite: 'sign' });
  const frame = peer.sealMessages('{"jsonrpc":"2.0","id":1,"method":"shop.echo","params":[1]}');
  frame[frame.length - 1]! ^= 0x01;
  await peer.raw.write(frame);
  await peer.raw.closed;
  await settled(server.metrics, 'gaw_server_frames_refused_total', { reason: 'auth_failed' }, 1);
});

test('client retries are counted by the error that caused them, and ejections as they happen', async (t) => {
  const closed = await startServer({}, Shop);
  const deadPort = closed.address.port;
  await closed.close();
  const lone = new GawClient({ port: deadPort, retries: 2, baseDelayMs: 1, maxDelayMs: 2, metrics: true });
  t.after(() => lone.destroy());
  await assert.rejects(lone.call('shop.echo', [1]), { code: 'GAW_ERR_CONN_REFUSED' });
  let c = await scrape(lone.metrics);
  assert.equal(sampleValue(c, 'gaw_client_retries_total', { error_type: 'GAW_ERR_CONN_REFUSED' }), 2);
  const refused = shop('echo', { outcome: 'error', error_type: 'GAW_ERR_CONN_REFUSED' });
  assert.equal(sampleValue(c, 'rpc_client_duration_seconds_count', refused), 1);

  // A stalled endpoint (its calls time out) beside a healthy one: ejected once, for a minute.
  const stalled = await startServer({}, Shop);
  const open = new Gate();
  open.open();
  const healthy = await startServer({}, [Shop, open]);
  t.after(() => Promise.all([stalled.close(), healthy.close()]));
  const pair = new GawClient({
    endpoints: [`127.0.0.1:${stalled.address.port}`, `127.0.0.1:${healthy.address.port}`],
    ejectAfterFailures: 1,
    ejectionMs: 60_000,
    maxEjectionMs: 60_000,
    retries: 0,
    metrics: true,
  });
  t.after(() => pair.destroy());
  const ejections = async () => sampleValue(await scrape(pair.metrics), 'gaw_client_ejections_total');
  for (let i = 0; i < 50 && (await ejections()) === 0; i++)
    await pair.call('shop.slow', [], { timeoutMs: 50 }).catch(() => {});
  assert.equal(await ejections(), 1);
  for (let i = 0; i < 4; i++) assert.equal(await pair.call('shop.slow', [], { timeoutMs: 5_000 }), 'done');
  c = await scrape(pair.metrics);
  assert.equal(sampleValue(c, 'gaw_client_ejections_total'), 1);
  const timedOut = shop('slow', { outcome: 'error', error_type: 'GAW_ERR_CALL_TIMEOUT' });
  assert.ok(sampleValue(c, 'rpc_client_duration_seconds_count', timedOut) >= 1);
});

test("servers and clients given the user's Registry share its series, under a prefix", async (t) => {
  const registry = new Registry();
  const options = { metrics: { registry, prefix: 'shop_' } };
  const one = await startServer(options, Shop);
  const two = await startServer(options, Shop);
  const a = new GawClient({ port: one.address.port, ...options });
  const b = new GawClient({ port: two.address.port, ...options });
  t.after(async () => {
    a.destroy();
    b.destroy();
    await Promise.all([one.close(), two.close()]);
  });
  assert.equal(one.metrics, registry);
  await Promise.all([a.call('shop.echo', [1]), b.call('shop.echo', [2]), b.call('shop.echo', [3])]);
  const s = parsePrometheusText(await registry.metrics());
  assert.equal(sampleValue(s, 'shop_rpc_server_duration_seconds_count', shop('echo', { outcome: 'ok' })), 3);
  assert.equal(sampleValue(s, 'shop_rpc_client_duration_seconds_count', shop('echo', { outcome: 'ok' })), 3);
  assert.equal(sampleValue(s, 'shop_gaw_server_connections', { state: 'open' }), 2);
  assert.equal(s.has('rpc_server_duration_seconds'), false);
});

test('metrics options are checked, and metrics are off by default', () => {
  for (const [metrics, problem] of [
    ['yes', /metrics must be true or \{ registry\?, prefix\? \}/],
    [{ registry: {} }, /metrics.registry must be a prom-client Registry/],
    [{ prefix: '1x' }, /metrics.prefix must be a Prometheus name prefix/],
    [{ prefixes: 'x' }, /metrics has no option "prefixes"/],
  ] as const) {
    assert.throws(() => new GawServer({ metrics: metrics as never }), {
      code: 'GAW_ERR_INVALID_OPTION',
      message: problem,
    });
    assert.throws(() => new GawClient({ metrics: metrics as never }), {
      code: 'GAW_ERR_INVALID_OPTION',
      message: problem,
    });
  }
  assert.equal(new GawServer({}).metrics, undefined);
  assert.equal(new GawServer({ metrics: false }).metrics, undefined);
  const client = new GawClient({});
  assert.equal(client.metrics, undefined);
  client.destroy();
});

test('without prom-client installed, metrics fail naming the package and the rest works', async (t) => {
  // A copy of the build next to a node_modules holding every package but prom-client.
  const dir = mkdtempSync(path.join(tmpdir(), 'gaw-no-prom-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(path.join(projectRoot, 'dist/src'), path.join(dir, 'dist/src'), { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  const modules = path.join(projectRoot, 'node_modules');
  const linked = path.join(dir, 'node_modules');
  mkdirSync(linked);
  for (const name of readdirSync(modules))
    if (name !== 'prom-client') symlinkSync(path.join(modules, name), path.join(linked, name));
  const program = `
    import { GawClient, GawServer } from ${JSON.stringify(path.join(dir, 'dist/src/index.js'))};
    class S { static serviceName = 's'; static entrypoints = ['m']; m() { return 1; } }
    for (const make of [() => new GawServer({ metrics: true }), () => new GawClient({ metrics: true })])
      try { make(); console.log('made'); } catch (err) { console.log(err.code, err.message); }
    const server = new GawServer({ port: 0 }).add(S);
    await server.listen();
    const client = new GawClient({ port: server.address.port });
    console.log(await client.call('s.m'));
    await client.close();
    await server.close();`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', program], {
    cwd: dir,
  });
  const missing = 'GAW_ERR_MISSING_DEPENDENCY metrics need the package prom-client: npm install prom-client';
  assert.deepEqual(stdout.trim().split('\n'), [missing, missing, '1']);
});
