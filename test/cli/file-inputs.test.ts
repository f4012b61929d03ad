// Files the CLI reads that are not small regular files: /dev/zero (endless), a FIFO with no writer
// (blocks forever on open or read), a directory, an oversized regular file, as --secret-file,
// --http-token-file or the module to serve. Each must be refused at once with exit code 2 and a
// message naming the file and what is wrong, with nothing read past a small bound.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSecret } from '../../src/cli/index.js';
import { useFixtureModules } from './fixture-modules.js';
import { examplesDir, runGaw } from './run-gaw.js';

const fx = useFixtureModules(generateSecret(), generateSecret(), 'file-inputs-token');
const services = `${examplesDir}services.js`;
const fifo = join(fx.dir, 'fifo');
execFileSync('mkfifo', [fifo]);
const big = join(fx.dir, 'big-secret');
writeFileSync(big, `${generateSecret()}\n${' '.repeat(5000)}`);
const bigModule = join(fx.dir, 'big.mjs');
const fd = openSync(bigModule, 'w');
ftruncateSync(fd, 65 * 1024 * 1024); // sparse: costs no disk
closeSync(fd);

/** Runs gaw with a short deadline: a hang (the FIFO) fails the test instead of stalling it. */
async function refused(args: string[], message: RegExp): Promise<void> {
  const result = await runGaw(args, { timeoutMs: 10_000 });
  assert.match(result.stderr, message);
  assert.equal(result.stdout, '');
  assert.equal(result.code, 2, result.stderr);
}

describe('files that are not small regular files', () => {
  test('--secret-file /dev/zero is refused as a character device', () =>
    refused(
      [services, '--port', '0', '--secret-file', '/dev/zero'],
      /cannot read --secret-file "\/dev\/zero": it is a character device, not a regular file/,
    ));

  test('a FIFO as --secret-file or --http-token-file is refused without waiting for a writer', async () => {
    await refused(
      ['call', '127.0.0.1:1', 'svc.m', '--secret-file', fifo],
      /--secret-file ".*fifo": it is a FIFO \(named pipe\), not a regular file/,
    );
    await refused(
      [services, '--port', '0', '--http-port', '0', '--http-token-file', fifo],
      /--http-token-file ".*fifo": it is a FIFO \(named pipe\), not a regular file/,
    );
  });

  test('a directory as --secret-file is refused', () =>
    refused(
      [services, '--port', '0', '--secret-file', fx.dir],
      /cannot read --secret-file ".*": it is a directory, not a regular file/,
    ));

  test('a regular secret file over 4096 bytes is refused', () =>
    refused([services, '--port', '0', '--secret-file', big], /--secret-file ".*big-secret" is larger than 4096 bytes/));

  test('gaw /dev/zero and gaw <fifo> are refused before anything is imported', async () => {
    await refused(
      ['/dev/zero', '--port', '0'],
      /cannot load "\/dev\/zero": it is a character device, not a regular file \(GAW_ERR_MODULE_LOAD\)/,
    );
    await refused([fifo, '--port', '0'], /cannot load ".*fifo": it is a FIFO \(named pipe\), not a regular file/);
  });

  test('a module file over 64 MiB is refused by its size, unread', () =>
    refused(
      [bigModule, '--port', '0'],
      /cannot load ".*big\.mjs": it is 68157440 bytes, more than a module may be \(67108864\)/,
    ));
});
