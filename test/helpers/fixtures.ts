// Loads the known-answer vectors in test/fixtures/ from the compiled tests (dist/test/...).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The project root: the nearest folder above this file that holds package.json. */
export const projectRoot: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      readFileSync(path.join(dir, 'package.json'));
      return dir;
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) throw new Error(`package.json not found above ${fileURLToPath(import.meta.url)}`);
      dir = parent;
    }
  }
})();

export function fixturePath(name: string): string {
  return path.join(projectRoot, 'test', 'fixtures', name);
}

export function readFixture(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

export function loadFixture<T = any>(name: string): T {
  return JSON.parse(readFixture(name)) as T;
}
