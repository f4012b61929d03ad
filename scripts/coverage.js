#!/usr/bin/env node
// `npm run coverage` after the build: the whole suite (scripts/run-tests.js) under c8, counting
// every file of src/ whether a test loads it or not (.c8rc.json), except modules with no runtime
// code at all (only types): tsc compiles them to an empty file that nothing can execute, and c8
// would count every line of their source as missed. They are named on stdout, not hidden.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAsChild } from './child.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

function compiled(dir) {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return compiled(rel);
    return entry.name.endsWith('.js') ? [rel] : [];
  });
}

/** True when a compiled module holds nothing but comments and `export {};`. */
function isTypeOnly(file) {
  const code = readFileSync(path.join(root, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '')
    .replace(/^export \{\};$/m, '');
  return code.trim() === '';
}

const typeOnly = compiled(path.join('dist', 'src'))
  .filter(isTypeOnly)
  .map((file) => path.relative(path.join(root, 'dist'), path.join(root, file)).replace(/\.js$/, '.ts'))
  .sort();
if (typeOnly.length > 0) console.log(`not counted (types only, no runtime code): ${typeOnly.join(', ')}`);
const c8 = path.join(root, 'node_modules', 'c8', 'bin', 'c8.js');
const excludes = typeOnly.flatMap((source) => ['--exclude', source]);
runAsChild(root, [c8, ...excludes, process.execPath, path.join(root, 'scripts', 'run-tests.js')]);
