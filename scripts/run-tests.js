#!/usr/bin/env node
// `npm test` after the build: runs `node --test` on the compiled form of every test/**/*.test.ts
// and nothing else, so helper modules (test/helpers/, test/cli/run-gaw.ts, ...) never run as test
// files and a test deleted from test/ does not keep running from a stale dist/. Node 20's
// `node --test` takes no globs (they arrived in Node 21), so the list is made here.
// Extra arguments go to `node --test` before the files: `npm test -- --test-name-pattern=retry`.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAsChild } from './child.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** Every `*.test.ts` under dir, as paths relative to the project root, sorted. */
function testSources(dir) {
  return readdirSync(path.join(root, dir), { withFileTypes: true })
    .flatMap((entry) => {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) return testSources(rel);
      return entry.name.endsWith('.test.ts') ? [rel] : [];
    })
    .sort();
}

const files = testSources('test').map((source) => path.join('dist', source.replace(/\.ts$/, '.js')));
const missing = files.filter((file) => !existsSync(path.join(root, file)));
if (missing.length > 0) {
  console.error(`not built: ${missing.join(', ')} (run npm run build first)`);
  process.exit(2);
}
runAsChild(root, ['--test', '--test-timeout=180000', ...process.argv.slice(2), ...files]);
