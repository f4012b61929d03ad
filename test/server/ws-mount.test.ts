// server.httpUpgradeHandler() and createHttpUpgradeHandler() in an application's own node:http
// server: the same wire as the bridge's WebSocket, pushes through server.webSockets, the drain on
// server.close(), a forwarding Dispatcher behind it, and a clear error when `ws` is missing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Dispatcher, GawClient, GawServer, createHttpUpgradeHandler } from '../../src/index.js';
import type { HttpUpgradeHandler } from '../../src/index.js';
import { track } from '../helpers/cleanup.js';
import { projectRoot } from '../helpers/fixtures.js';
import { makeSecret, startServer, within } from '../helpers/server-fixtures.js';
import { WsRpc, refusalOf } from './ws-helpers.js';

class MathService {
  static serviceName = 'math_service';
  static entrypoints = ['plus'];
  plus(a: number, b: number) {
    return a + b;
  }
}

/** An application's own server: POST handling is not the point here, upgrades on /api go to `upgrade`. */
async function appServer(upgrade: HttpUpgradeHandler): Promise<string> {
  const app = http.createServer((_req, res) => res.writeHead(404).end());
  app.on('upgrade', (req, socket, head) => {
    if (req.url === '/api') upgrade(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  track(() => app.close());
  return `ws://127.0.0.1:${(app.address() as AddressInfo).port}/api`;
}

test('httpUpgradeHandler() in a node:http server: calls, pushes from server.webSockets, drain on close', async () => {
  const server = new GawServer().add(MathService);
  const url = await appServer(await server.httpUpgradeHandler({ websocket: { maxInFlight: 4 } }));
  const rpc = await WsRpc.open(url);
  assert.deepEqual(await rpc.call('math_service.plus', [10, 20]), { jsonrpc: '2.0', id: 1, result: 30 });
  await rpc.call('rpc.subscribe', ['sums']);
  assert.equal(server.webSockets.publish('sums', [30]), 1);
  await rpc.notificationCount(1);
  assert.deepEqual(rpc.notifications[0], { jsonrpc: '2.0', method: 'sums', params: [30] });
  await server.close();
  assert.equal((await within(rpc.closed, 5_000, 'the 1001 close')).code, 1001);
});

test('httpUpgradeHandler() refuses bad options and a missing token on a server with a secret', async () => {
  const server = new GawServer({ secret: makeSecret() }).add(MathService);
  await assert.rejects(server.httpUpgradeHandler(), /needs a token when the server has a secret/);
  await assert.rejects(
    server.httpUpgradeHandler({ token: 't', websocket: { maxInFlite: 3 } as never }),
    (err: Error) => {
      assert.equal((err as { code?: string }).code, 'GAW_ERR_INVALID_OPTION');
      assert.match(err.message, /maxInFlite/);
      return true;
    },
  );
  const url = await appServer(await server.httpUpgradeHandler({ token: 'tok-1' }));
  assert.equal((await refusalOf(url, { protocols: ['gaw.jsonrpc', 'gaw.bearer.tok-2'] })).status, 401);
  const rpc = await WsRpc.open(url, { protocols: ['gaw.jsonrpc', 'gaw.bearer.tok-1'] });
  assert.equal((await rpc.call('math_service.plus', [1, 2])).result, 3);
  await rpc.close();
});

test('createHttpUpgradeHandler() in front of a forwarding Dispatcher reaches a remote server', async () => {
  const remote = await startServer({}, MathService);
  track(() => remote.close());
  const client = new GawClient({ host: '127.0.0.1', port: remote.address.port });
  track(() => client.close());
  const forwarder = new Dispatcher({
    forward: (method, params, isNotification) =>
      isNotification
        ? client.notify(method, params as unknown[], { isRaw: true })
        : client.callRaw(method, params as unknown[]),
  });
  const upgrade = await createHttpUpgradeHandler({
    dispatch: (message, origin) => forwarder.dispatch(message, origin),
    isRaw: true,
  });
  const url = await appServer(upgrade);
  const rpc = await WsRpc.open(url);
  assert.deepEqual(await rpc.call('math_service.plus', [2, 40]), { jsonrpc: '2.0', id: 1, result: 42 });
  await upgrade.close(1_000);
  assert.equal((await rpc.closed).code, 1001);
});

test('without the ws package, WebSocket fails at listen() naming the package', async () => {
  // A resolve hook that makes `ws` unresolvable, as when it is not installed.
  const hook = `data:text/javascript,${encodeURIComponent(
    "export async function resolve(s, c, n) { if (s === 'ws') { const e = new Error(\"Cannot find package 'ws'\"); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; } return n(s, c); }",
  )}`;
  const register = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(hook)});`)}`;
  const program = `
    import { GawServer } from ${JSON.stringify(path.join(projectRoot, 'dist/src/index.js'))};
    class S { static serviceName = 's'; static entrypoints = ['m']; m() {} }
    const server = new GawServer({ port: 0, http: { port: 0, websocket: true } }).add(S);
    try { await server.listen(); console.log('listening'); } catch (err) { console.log(err.code, err.message); }
    await server.close();`;
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--import',
    register,
    '--input-type=module',
    '-e',
    program,
  ]);
  assert.equal(stdout.trim(), 'GAW_ERR_MISSING_DEPENDENCY the WebSocket endpoint needs the package ws: npm install ws');
});
