// Test helper: writes small service modules to a temporary directory for the CLI to load: a
// service whose calls wait for SIGUSR2 (to hold calls in flight without guessing at delays), a
// CommonJS one, one with no services, and one that throws while loading. No gaw import needed.
// useFixtureModules also cleans up after the suite that calls it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { stopAll } from './run-gaw.js';

export interface FixtureModules {
  dir: string;
  /** slow.hold(label): logs "hold started <label>" on stderr, resolves "released <label>" on SIGUSR2. */
  slow: string;
  /** CommonJS: counter (constructor(start, step = 1); counter.next(), shared) and echo.echo(value). */
  commonjs: string;
  noServices: string;
  throws: string;
  secretFile: string;
  wrongSecretFile: string;
  tokenFile: string;
  remove(): void;
}

const slowSource = `
const waiting = [];
process.on('SIGUSR2', () => { for (const release of waiting.splice(0)) release(); });
export class SlowService {
  static serviceName = 'slow';
  static entrypoints = ['hold'];
  hold(label) {
    process.stderr.write('hold started ' + label + '\\n');
    return new Promise((resolve) => waiting.push(() => resolve('released ' + label)));
  }
}
`;

const commonjsSource = `
class Counter {
  static serviceName = 'counter';
  static entrypoints = ['next'];
  static shared = true;
  constructor(start, step = 1) { this.value = start; this.step = step; }
  next() { this.value += this.step; return this.value; }
}
class Echo {
  static serviceName = 'echo';
  static entrypoints = ['echo'];
  echo(value) { return value; }
}
module.exports = { Counter, Echo };
`;

export function writeFixtureModules(secret: string, wrongSecret: string, token: string): FixtureModules {
  const dir = mkdtempSync(join(tmpdir(), 'gaw-cli-test-'));
  const file = (name: string, text: string, mode = 0o644) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode });
    return path;
  };
  return {
    dir,
    slow: file('slow.mjs', slowSource),
    commonjs: file('counter.cjs', commonjsSource),
    noServices: file('no-services.mjs', 'export const answer = 42;\nexport class NotAService { run() {} }\n'),
    throws: file('throws.mjs', 'throw new Error("the module failed on purpose");\n'),
    secretFile: file('secret', `${secret}\n`, 0o600),
    wrongSecretFile: file('wrong-secret', `${wrongSecret}\n`, 0o600),
    tokenFile: file('token', `${token}\n`, 0o600),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Writes the fixtures now; after the enclosing suite (or file), kills every gaw child still running, then removes them. */
export function useFixtureModules(secret: string, wrongSecret: string, token: string): FixtureModules {
  const fx = writeFixtureModules(secret, wrongSecret, token);
  after(() => {
    stopAll();
    fx.remove();
  });
  return fx;
}
