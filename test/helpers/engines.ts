// Tests that need a real engine (redis-server, chromium, a Python client from Debian) find it here.
// Locally, a missing engine skips the test with one line naming the Debian package; in CI
// (`GAW_REQUIRE_ENGINES=1`, set by .ci/run after it installs them) a missing engine fails instead.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Engine {
  /** The absolute path of the executable. */
  readonly path: string;
}

/** Engines are required (missing one fails) when `GAW_REQUIRE_ENGINES=1`. */
export const isEngineRequired = process.env.GAW_REQUIRE_ENGINES === '1';

function findExecutable(name: string, extraDirs: readonly string[]): string | undefined {
  const dirs = [...extraDirs, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  for (const dir of dirs) {
    const candidate = name.includes('/') ? name : join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
    if (name.includes('/')) return undefined;
  }
  return undefined;
}

/**
 * Finds the executable `name` (a bare name searched on PATH and in /usr/bin, /usr/sbin, or an
 * absolute path). Returns `{ skip }` for node:test's options when it is missing and engines are
 * optional; throws when they are required, so CI cannot pass by skipping.
 */
export function findEngine(
  name: string,
  debianPackage: string,
): { engine: Engine; skip: false } | { engine: undefined; skip: string } {
  const path = findExecutable(name, ['/usr/bin', '/usr/sbin', '/usr/local/bin']);
  if (path !== undefined) return { engine: { path }, skip: false };
  const line = `${name} not found: install the Debian package ${debianPackage} (apt-get install -y ${debianPackage})`;
  if (isEngineRequired) throw new Error(`GAW_REQUIRE_ENGINES=1 and ${line}`);
  return { engine: undefined, skip: line };
}

/**
 * Like findEngine, for a package that installs no executable (a Python library): `path` is a file
 * it installs, e.g. `/usr/lib/python3/dist-packages/jsonrpclib/__init__.py`.
 */
export function findInstalledFile(
  path: string,
  debianPackage: string,
): { engine: Engine; skip: false } | { engine: undefined; skip: string } {
  try {
    accessSync(path, constants.R_OK);
    return { engine: { path }, skip: false };
  } catch {
    const line = `${path} not found: install the Debian package ${debianPackage} (apt-get install -y ${debianPackage})`;
    if (isEngineRequired) throw new Error(`GAW_REQUIRE_ENGINES=1 and ${line}`);
    return { engine: undefined, skip: line };
  }
}
