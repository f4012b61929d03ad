// gaw/browser must load in a web page with no bundler: every module its entry reaches is one of
// our own, imported by a relative path, and none of them uses a Node built-in (node:*, Buffer,
// process, require) or a package (msgpackr, pino). The walk runs over the compiled files we ship.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { browserModules, compiledSourceRoot, importSpecifiers } from '../../src/server/browser-modules.js';
import { projectRoot } from '../helpers/fixtures.js';

test('package.json exports gaw/browser as the compiled browser entry, with its types', () => {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8'));
  assert.deepEqual(pkg.exports['./browser'], {
    types: './dist/src/browser/index.d.ts',
    default: './dist/src/browser/index.js',
  });
});

test('every module reachable from gaw/browser is ours, by relative path, and uses no Node built-in', () => {
  const modules = browserModules('browser/index.js');
  const names = [...modules.keys()].sort();
  // The client shares the message model, the registry and the error table, and nothing else.
  for (const name of names) assert.match(name, /^(browser|jsonrpc|serializable)\/[\w-]+\.js$|^errors\.js$/, name);
  for (const expected of ['browser/client.js', 'jsonrpc/index.js', 'serializable/portable.js', 'errors.js'])
    assert.ok(names.includes(expected), `${expected} is reached`);
  for (const forbidden of ['serializable/codec.js', 'serializable/bytes-node.js', 'serializable/index.js'])
    assert.ok(!names.includes(forbidden), `${forbidden} is not reached`);
  for (const [name, text] of modules) {
    const code = text
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '')
      .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, "''");
    for (const pattern of [/\bBuffer\b/, /\bprocess\b/, /\brequire\s*\(/, /\bglobal\b/, /\b__dirname\b/])
      assert.doesNotMatch(code, pattern, `${name} uses ${pattern}`);
    for (const spec of importSpecifiers(text)) assert.match(spec, /^\.\.?\//, `${name} imports ${spec}`);
  }
});

test('the walk finds every kind of import tsc emits, and refuses node: and bare specifiers naming the file', () => {
  const text = [
    "import { a } from './a.js';",
    'import {\n  b,\n  c,\n} from "../b.js";',
    "export { d } from './d.js';",
    "export * from './e.js';",
    "import './f.js';",
    "const g = await import('./g.js');",
    '// import { no } from "./comment.js";',
  ].join('\n');
  assert.deepEqual(importSpecifiers(text), ['./a.js', '../b.js', './d.js', './e.js', './f.js', './g.js']);
  assert.deepEqual(importSpecifiers("import { x } from 'node:fs';\nimport y from 'msgpackr';"), [
    'node:fs',
    'msgpackr',
  ]);
  // The server-side walk refuses them: serializable/index.js reaches msgpackr and Buffer.
  assert.throws(
    () => browserModules('serializable/index.js', compiledSourceRoot),
    /imports "msgpackr": not a browser module/,
  );
});
