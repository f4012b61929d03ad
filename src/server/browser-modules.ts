// The ES modules of gaw/browser as files, for the service console to serve: found by walking the
// relative imports of the compiled browser entry (dist/src/browser/index.js), so exactly the files
// it reaches are served and nothing else. A bare or `node:` import there is refused: the page could
// not load it (and the browser client must not need one). Read once, when the console is turned on.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';

/** dist/src, the root the module paths are relative to. */
export const compiledSourceRoot: string = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** Static import/export ... from '...', side-effect imports and import('...') in compiled JavaScript. */
const specifierPattern =
  /(?:^|[;}\s])(?:import|export)\s*(?:[\w*{}\s,$]*?\s*from\s*)?['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every specifier a compiled module imports (comments and strings aside, which tsc output keeps simple). */
export function importSpecifiers(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...code.matchAll(specifierPattern)].map((m) => (m[1] ?? m[2])!);
}

/**
 * The modules reachable from `entry` (relative to `root`, e.g. `browser/index.js`), by their
 * path relative to `root` (always with `/`), with their text. Throws UsageError naming the file
 * when one imports anything but a relative `.js` path inside `root`.
 */
export function browserModules(entry = 'browser/index.js', root = compiledSourceRoot): Map<string, string> {
  const found = new Map<string, string>();
  const queue = [entry];
  while (queue.length > 0) {
    const rel = queue.pop()!;
    if (found.has(rel)) continue;
    const text = readFileSync(path.join(root, rel), 'utf8');
    found.set(rel, text);
    for (const spec of importSpecifiers(text)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(rel), spec));
      if (!spec.startsWith('.') || !spec.endsWith('.js') || target.startsWith('..'))
        throw new UsageError('GAW_ERR_INVALID_OPTION', `${rel} imports ${JSON.stringify(spec)}: not a browser module`);
      queue.push(target);
    }
  }
  return found;
}
