// A module that imports its own copy of gaw (a project's node_modules/gaw) served by another copy
// (a global CLI): its decorated classes are marked in the copy that ran the decorators, so the
// CLI's copy finds no services; the error must name the two copies as the likely cause. With one
// copy (node_modules/gaw a link to this package) the same module serves. Real child processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useFixtureModules } from './fixture-modules.js';
import { rootDir, runGaw, startGaw } from './run-gaw.js';

const fx = useFixtureModules('', '', 'unused-token');

// What TypeScript compiles `@service('hello') class Hello { @entrypoint hi() {} }` to, by hand.
const decoratedModule = `
import { entrypoint, service } from 'gaw';
class Hello { hi() { return 'hi from a decorated class'; } }
const methodContext = { kind: 'method', name: 'hi', static: false, private: false, addInitializer() {}, metadata: undefined };
entrypoint(Hello.prototype.hi, methodContext);
service('hello')(Hello, { kind: 'class', name: 'Hello', addInitializer() {}, metadata: undefined });
export { Hello };
`;

/** A project directory holding the module, with node_modules/gaw made by `install`. */
function project(name: string, install: (gawDir: string) => void): string {
  const dir = join(fx.dir, name);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  install(join(dir, 'node_modules', 'gaw'));
  writeFileSync(join(dir, 'services.mjs'), decoratedModule);
  return dir;
}

test('a module whose gaw is a second copy gets an error naming both copies as the likely cause', async () => {
  const dir = project('two-copies', (gawDir) => {
    // A real copy (not a link: Node would resolve a link to this very package), with links to its dependencies.
    mkdirSync(join(gawDir, 'dist'), { recursive: true });
    cpSync(join(rootDir, 'package.json'), join(gawDir, 'package.json'));
    cpSync(join(rootDir, 'dist', 'src'), join(gawDir, 'dist', 'src'), { recursive: true });
    const pkg = JSON.parse(readFileSync(join(rootDir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const dep of Object.keys(pkg.dependencies))
      symlinkSync(join(rootDir, 'node_modules', dep), join(gawDir, '..', dep));
  });
  const result = await runGaw([join(dir, 'services.mjs'), '--port', '0']);
  assert.match(
    result.stderr,
    /exports no service classes .*its exports: Hello\. Two copies of gaw are loaded, which is the likely cause/,
  );
  assert.ok(result.stderr.includes(JSON.stringify(rootDir)), `names this copy: ${result.stderr}`);
  assert.ok(
    result.stderr.includes(JSON.stringify(join(dir, 'node_modules', 'gaw/'))),
    `names the module's copy: ${result.stderr}`,
  );
  assert.match(result.stderr, /Run the project's own gaw \(npx gaw, or node_modules\/\.bin\/gaw\)/);
  assert.equal(result.code, 2);
});

test('the same module with one copy of gaw serves its decorated class, and a module with no services gets no such hint', async () => {
  const dir = project('one-copy', (gawDir) => symlinkSync(rootDir, gawDir));
  const server = await startGaw([join(dir, 'services.mjs'), '--port', '0']);
  try {
    const call = await runGaw(['call', `127.0.0.1:${server.port}`, 'hello.hi']);
    assert.equal(call.stdout, '"hi from a decorated class"\n', call.stderr);
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  const none = await runGaw([fx.noServices, '--port', '0']);
  assert.match(none.stderr, /exports no service classes/);
  assert.doesNotMatch(none.stderr, /copies/);
});
