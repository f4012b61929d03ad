// `gaw <module>` with the observability options: interceptors loaded from a module of the user's
// (their order, a rejection reaching the caller), and a module that exports none refused.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GawClient } from '../../src/client/index.js';
import { RemoteError } from '../../src/errors.js';
import { examplesDir, runGaw, startGaw, stopAll } from './run-gaw.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gaw-observe-'));
after(() => {
  stopAll();
  rmSync(dir, { recursive: true, force: true });
});
writeFileSync(
  path.join(dir, 'first.mjs'),
  `export const interceptors = [
  (call, next) => {
    if (call.method === 'divide') throw Object.assign(new Error('no'), { name: 'NotHere' });
    call.params = call.params.map((v) => v * 10);
    return next();
  },
];\n`,
);
writeFileSync(path.join(dir, 'second.mjs'), 'export default (call, next) => `${next()} (seen)`;\n');
writeFileSync(path.join(dir, 'none.mjs'), 'export const something = 1;\n');

describe('gaw <module> --interceptors', () => {
  test('runs the modules interceptors in the order given, around every call', async () => {
    const server = await startGaw(
      [
        `${examplesDir}services.js`,
        '--port',
        '0',
        '--interceptors',
        path.join(dir, 'first.mjs'),
        '--interceptors',
        './second.mjs',
      ],
      { cwd: dir },
    );
    const client = new GawClient({ port: server.port, retries: 0 });
    try {
      assert.equal(await client.call('math_service.plus', [1, 2]), 'hello!: 30 (seen)');
      const err = await client.call('math_service.divide', [1, 2]).catch((e: unknown) => e);
      assert.ok(err instanceof RemoteError);
      assert.equal(err.rpcCode, -32000);
    } finally {
      await client.close();
      server.child.kill('SIGTERM');
      assert.equal((await server.exited).code, 0);
    }
  });

  test('a module that exports no interceptors is a usage error naming it', async () => {
    const result = await runGaw([
      `${examplesDir}services.js`,
      '--port',
      '0',
      '--interceptors',
      path.join(dir, 'none.mjs'),
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--interceptors ".*none\.mjs" exports neither `interceptors` nor a default/);
  });
});
