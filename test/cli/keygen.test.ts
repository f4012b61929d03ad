import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSecret } from '../../src/postoffice/index.js';
import { runGaw } from './run-gaw.js';

test('gaw keygen prints a fresh base64 secret of 32 random bytes, different each time', async () => {
  const [first, second] = await Promise.all([runGaw(['keygen']), runGaw(['keygen'])]);
  for (const result of [first, second]) {
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
    assert.equal(parseSecret(result.stdout).length, 32);
  }
  assert.notEqual(first.stdout, second.stdout);
});

test('gaw keygen --bytes makes 16- and 24-byte secrets and refuses other sizes with exit code 2', async () => {
  const [sixteen, twentyFour, seventeen] = await Promise.all([
    runGaw(['keygen', '--bytes', '16']),
    runGaw(['keygen', '--bytes', '24']),
    runGaw(['keygen', '--bytes', '17']),
  ]);
  assert.equal(parseSecret(sixteen.stdout).length, 16);
  assert.equal(parseSecret(twentyFour.stdout).length, 24);
  assert.equal(seventeen.code, 2);
  assert.equal(seventeen.stdout, '');
  assert.match(seventeen.stderr, /bytes.*17.*Choices: "16", "24", "32"/s);
});
