// The README is part of the contract: its example runs as written, and its error table lists
// every code in src/errors.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { errorCodes } from '../../src/errors.js';
import { projectRoot } from '../helpers/fixtures.js';

const run = promisify(execFile);
const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');

test('the README quickstart example runs and prints what the README says', async () => {
  const { stdout } = await run(process.execPath, [path.join(projectRoot, 'examples', 'quickstart.js')], {
    cwd: projectRoot,
    timeout: 30_000,
  });
  assert.deepEqual(stdout.trim().split('\n'), ['hello!: 30', 'hello!: 3', 'true 200']);
  const example = readFileSync(path.join(projectRoot, 'examples', 'quickstart.js'), 'utf8');
  const start = example.indexOf('import { randomBytes }');
  assert.ok(start >= 0, 'examples/quickstart.js starts its code with the randomBytes import');
  assert.ok(readme.includes(example.slice(start).trim()), 'the README shows examples/quickstart.js verbatim');
});

test('the README error table lists every error code with its meaning', () => {
  for (const code of Object.keys(errorCodes)) {
    assert.match(readme, new RegExp(`\\|\\s*\`${code}\`\\s*\\|`), `${code} is in the README's error table`);
  }
});

test('the README shows the two set-up commands', () => {
  assert.match(readme, /npm ci && npm start/);
  assert.match(readme, /npm ci && npm test/);
});
