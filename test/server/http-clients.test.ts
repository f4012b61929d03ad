// The JSON-RPC clients people already have, against the bridge of an encrypted server over real
// HTTP: jsonrpclib-pelix from Debian (it sends Content-Type: application/json-rpc) run by the
// system python, and curl. Each skips locally with one line when its package is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { register } from '../../src/serializable/index.js';
import { ServiceError } from '../../src/errors.js';
import { entrypoint } from '../../src/server/service.js';
import { findEngine, findInstalledFile } from '../helpers/engines.js';
import { fixturePath } from '../helpers/fixtures.js';
import { makeSecret, startServer } from '../helpers/server-fixtures.js';

const run = promisify(execFile);
const python = findEngine('/usr/bin/python3', 'python3');
const jsonrpclib = findInstalledFile(
  '/usr/lib/python3/dist-packages/jsonrpclib/__init__.py',
  'python3-jsonrpclib-pelix',
);
const curl = findEngine('curl', 'curl');

class Product {
  constructor(
    public header = '',
    public result = 0,
  ) {}
}
register(Product, { tag: 'ClientsProduct' });

let notified = 0;
class MathService {
  static serviceName = 'math_service';
  @entrypoint plus(a: number, b: number) {
    notified++;
    return a + b;
  }
  @entrypoint multiply(a: number, b: number) {
    return new Product('hi', a * b);
  }
  @entrypoint divide(a: number, b: number) {
    if (b === 0) throw new ServiceError(1001, 'division by zero', { a, b });
    return a / b;
  }
}

const token = 'clients-token';

async function encryptedServer() {
  return startServer({ secret: makeSecret(), encrypt: true, http: { port: 0, token } }, MathService);
}

test('jsonrpclib-pelix calls the bridge: positional and named params, tagged results, errors with their codes, batches, a wrong token', {
  skip: python.skip || jsonrpclib.skip,
}, async () => {
  const server = await encryptedServer();
  try {
    const url = `http://127.0.0.1:${server.httpAddress!.port}/api`;
    notified = 0;
    const { stdout } = await run(python.engine!.path, [fixturePath('jsonrpclib-client.py'), url, token], {
      timeout: 15_000,
      env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
    });
    const cases = Object.fromEntries(
      stdout
        .trim()
        .split('\n')
        .map((line) => {
          const { case: name, ...rest } = JSON.parse(line) as { case: string };
          return [name, rest];
        }),
    );
    assert.deepEqual(cases.positional, { result: 30 });
    assert.deepEqual(cases.named, { result: 3 });
    assert.deepEqual(cases.tagged, { result: { _t: 'ClientsProduct', _v: { header: 'hi', result: 42 } } });
    assert.deepEqual(cases['service error'], { code: 1001, message: 'division by zero' });
    assert.equal((cases['unknown method'] as { code: number }).code, -32601);
    assert.deepEqual(cases.batch, { result: [2, 4] });
    // A notification gets 204, which jsonrpclib reports as a transport status; the call still ran.
    assert.deepEqual(cases.notification, { transport: 204 });
    assert.deepEqual(cases['wrong token'], { transport: 401 });
    assert.equal(notified, 2 + 2 + 1, 'plus ran for the two calls, the batch and the notification');
  } finally {
    await server.close();
  }
});

test('curl calls the bridge with a token, and reads a JSON-RPC body from a refusal', { skip: curl.skip }, async () => {
  const server = await encryptedServer();
  try {
    const url = `http://127.0.0.1:${server.httpAddress!.port}/api`;
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'math_service.plus', params: [10, 20] });
    const curlArgs = ['-s', '-w', '\\n%{http_code}', '-H', 'Content-Type: application/json', '-d', body, url];
    const ok = await run(curl.engine!.path, ['-H', `Authorization: Bearer ${token}`, ...curlArgs], { timeout: 10_000 });
    assert.deepEqual(ok.stdout.split('\n'), ['{"jsonrpc":"2.0","id":1,"result":30}', '200']);
    const denied = await run(curl.engine!.path, curlArgs, { timeout: 10_000 });
    const [text, status] = denied.stdout.split('\n');
    assert.equal(status, '401');
    assert.equal(JSON.parse(text!).error.code, -32600);
    // curl -d sends application/x-www-form-urlencoded unless told otherwise: a form type is refused.
    const form = await run(
      curl.engine!.path,
      ['-s', '-w', '\\n%{http_code}', '-H', `Authorization: Bearer ${token}`, '-d', body, url],
      { timeout: 10_000 },
    );
    assert.equal(form.stdout.split('\n')[1], '415');
  } finally {
    await server.close();
  }
});
