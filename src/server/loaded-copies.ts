// Each copy of gaw loaded in a process records where it lives, in one process-wide set. The
// decorators mark classes only in the copy that ran them, so when a global `gaw` CLI serves a
// project that imports its own gaw, the CLI's copy sees no services; with this it can say why.
import { fileURLToPath } from 'node:url';

const key = Symbol.for('gaw.loadedCopies');
/** This copy's package directory (this file is dist/src/server/loaded-copies.js in it). */
const here = fileURLToPath(new URL('../../../', import.meta.url));
const holder = globalThis as { [key]?: Set<string> };
const copies = holder[key] ?? new Set<string>();
holder[key] = copies;
copies.add(here);

/** The package directory of this copy of gaw. */
export function thisCopy(): string {
  return here;
}

/** The package directories of the other copies of gaw loaded in this process (usually none). */
export function otherLoadedCopies(): string[] {
  return [...copies].filter((copy) => copy !== here);
}
