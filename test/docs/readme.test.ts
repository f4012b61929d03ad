// The README and docs/ are part of the contract: the quickstart runs as written, the error table
// lists every code in src/errors.ts, every js example runs and prints what it says, and every ts
// example type-checks against the built package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { errorCodes } from '../../src/errors.js';
import { projectRoot } from '../helpers/fixtures.js';
import {
  codeBlocks,
  docFiles,
  exampleFileOf,
  expectedOutput,
  runProgram,
  scratchDir,
  typeCheck,
} from './code-blocks.js';
import type { CodeBlock } from './code-blocks.js';

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

const examplesTest = readFileSync(path.join(projectRoot, 'test', 'cli', 'examples.test.ts'), 'utf8');
const blocks = docFiles().flatMap(codeBlocks);
const where = (block: CodeBlock) => `${block.file}:${block.line}`;

test('every js example in the README and docs/ runs and prints what its comments say', async () => {
  const programs = blocks.filter((block) => block.lang === 'js');
  assert.ok(programs.length >= 5, `found only ${programs.length} js examples`);
  const scratch = scratchDir();
  try {
    for (const block of programs) {
      const excerptOf = exampleFileOf(block);
      if (excerptOf !== undefined) {
        // An excerpt of an examples/ file is run, with what it needs around it, by another test.
        const isRun = excerptOf === 'quickstart.js' || examplesTest.includes(`${excerptOf}\``);
        assert.ok(isRun, `${where(block)} shows examples/${excerptOf}, which no test runs`);
        continue;
      }
      const expected = expectedOutput(block.code);
      const result = await runProgram(scratch.dir, block, 30_000);
      assert.equal(result.stderr, '', `${where(block)} wrote to stderr`);
      assert.equal(result.code, 0, `${where(block)} exited with ${result.code}`);
      assert.deepEqual(result.stdout.trimEnd().split('\n'), expected, `${where(block)} printed other lines`);
    }
  } finally {
    scratch.remove();
  }
});

test('every ts example in the README and docs/ type-checks against the built package', async () => {
  const fragments = blocks.filter((block) => block.lang === 'ts');
  assert.ok(fragments.length >= 5, `found only ${fragments.length} ts examples`);
  const scratch = scratchDir();
  try {
    assert.equal(await typeCheck(scratch.dir, fragments), '');
  } finally {
    scratch.remove();
  }
});

test('every json example in the README and docs/ parses', () => {
  for (const block of blocks.filter((b) => b.lang === 'json')) {
    assert.doesNotThrow(() => JSON.parse(block.code), `${where(block)} is not JSON`);
  }
});

test('code examples are fenced as js, ts, json, sh or text, so that none escapes these checks', () => {
  const other = blocks.filter((block) => !['js', 'ts', 'json', 'sh', 'text'].includes(block.lang));
  assert.deepEqual(other.map(where), []);
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

test('relative links in the README and docs/ point at files and headings that exist', () => {
  const broken: string[] = [];
  for (const file of docFiles()) {
    const text = readFileSync(path.join(projectRoot, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (target === undefined || /^[a-z]+:/.test(target)) continue;
      const [linked = '', anchor] = target.split('#');
      const linkedFile = linked === '' ? file : path.join(path.dirname(file), linked);
      let linkedText: string;
      try {
        linkedText = readFileSync(path.join(projectRoot, linkedFile), 'utf8');
      } catch {
        broken.push(`${file}: ${target} (no such file)`);
        continue;
      }
      if (anchor === undefined) continue;
      const anchors = [...linkedText.matchAll(/^#{1,6} (.+)$/gm)].map(([, heading]) => slug(heading ?? ''));
      if (!anchors.includes(anchor)) broken.push(`${file}: ${target} (no such heading)`);
    }
  }
  assert.deepEqual(broken, []);
});
