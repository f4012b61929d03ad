// The layer picture in the README, enforced: every import of another area goes through that
// area's index.ts, and dependencies point down only (server and client never import each other).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../helpers/fixtures.js';

/** What each area may import besides itself, errors.ts, log.ts, options.ts, context.ts and deadlines.ts. */
const allowed: Record<string, readonly string[]> = {
  postoffice: [],
  serializable: [],
  jsonrpc: [],
  // Redis plumbing (URL, bounded connection) shared by the registry and events: no gaw layer below.
  redis: [],
  // Interceptors, metrics and traces: the server and the client run calls through it, so it sits below both.
  observe: ['jsonrpc'],
  // Discovery: the registry's data layout, server announcements and client views, over redis.
  registry: ['redis'],
  legacy: ['jsonrpc', 'postoffice', 'serializable'],
  // Events sign envelopes with the postoffice's secrets and encode them with the codecs.
  events: ['postoffice', 'redis', 'serializable'],
  server: ['events', 'jsonrpc', 'legacy', 'observe', 'postoffice', 'registry', 'serializable'],
  client: ['events', 'jsonrpc', 'legacy', 'observe', 'postoffice', 'registry', 'serializable'],
  cli: ['client', 'events', 'jsonrpc', 'legacy', 'observe', 'postoffice', 'registry', 'serializable', 'server'],
  // The browser client runs in web pages: it shares the message model and the registry, nothing
  // that reaches a socket or a Node built-in (test/browser/no-node.test.ts walks its imports).
  browser: ['jsonrpc', 'serializable'],
};

/** Entry points other than index.ts: the browser reaches the registry through its portable surface. */
const otherEntries: Record<string, Record<string, string>> = {
  browser: { serializable: 'portable.js' },
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

test('each area imports only the layers below it, and only through their index.ts', () => {
  const src = path.join(projectRoot, 'src');
  const problems: string[] = [];
  for (const area of Object.keys(allowed)) {
    for (const file of sourceFiles(path.join(src, area))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/^(?:import|export)\b[^;]*?from '(\.\.\/[^']+)'/gms)) {
        const spec = match[1]!;
        const other = /^\.\.\/([a-z-]+)(\/|\.js$)/.exec(spec)?.[1];
        if (
          other === undefined ||
          other === 'errors' ||
          other === 'log' ||
          other === 'options' ||
          other === 'context' ||
          other === 'deadlines'
        )
          continue;
        const where = path.relative(projectRoot, file);
        if (!allowed[area]!.includes(other))
          problems.push(`${where} imports ${spec}: ${area} must not depend on ${other}`);
        else if (!spec.endsWith(`/${other}/${otherEntries[area]?.[other] ?? 'index.js'}`))
          problems.push(`${where} imports ${spec}: go through ${other}/${otherEntries[area]?.[other] ?? 'index.js'}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('only the serializable layer imports msgpackr, and only the seal file imports tweetnacl', () => {
  const src = path.join(projectRoot, 'src');
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, 'utf8');
    const where = path.relative(src, file);
    if (/from 'msgpackr'/.test(text)) assert.match(where, /^serializable\//, `${where} imports msgpackr`);
    // node-redis is optional: one file loads it, by dynamic import, only when a registry or events are used.
    if (/from '@redis\/client'|import\('@redis\/client'\)/.test(text))
      assert.equal(where, path.join('redis', 'connect.ts'), `${where} imports @redis/client`);
    assert.doesNotMatch(text, /^import [^;]*from '@redis\/client'/m, `${where} imports @redis/client statically`);
    if (/from 'tweetnacl'/.test(text))
      assert.equal(where, path.join('postoffice', 'seal.ts'), `${where} imports tweetnacl`);
    // @opentelemetry/api is an optional peer: types anywhere in observe/, the package itself only
    // by the dynamic import in tracing-api.ts.
    if (/'@opentelemetry\//.test(text)) assert.match(where, /^observe\/tracing/, `${where} names @opentelemetry`);
    if (/import\('@opentelemetry\/api'\)/.test(text))
      assert.equal(where, path.join('observe', 'tracing-api.ts'), `${where} imports @opentelemetry/api`);
    assert.doesNotMatch(
      text,
      /^import (?!type )[^;]*from '@opentelemetry\//m,
      `${where} imports @opentelemetry statically`,
    );
  }
});

test('no source file is over 300 lines (split by responsibility instead)', () => {
  const src = path.join(projectRoot, 'src');
  const long = sourceFiles(src)
    .map((file) => ({
      file: path.relative(projectRoot, file),
      lines: readFileSync(file, 'utf8').split('\n').length - 1,
    }))
    .filter(({ lines }) => lines > 300)
    .map(({ file, lines }) => `${file}: ${lines} lines`);
  assert.deepEqual(long, []);
});

test('GAW_ERR_CLOSED is one class everywhere: a UsageError (the caller used a closed object)', () => {
  const wrong = sourceFiles(path.join(projectRoot, 'src')).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/new (\w+)\('GAW_ERR_CLOSED'/g)]
      .filter((match) => match[1] !== 'UsageError')
      .map((match) => `${path.relative(projectRoot, file)}: new ${match[1]}`),
  );
  assert.deepEqual(wrong, []);
});
