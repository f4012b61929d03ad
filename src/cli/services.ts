// Loads the module given to `gaw <module>` (ESM or CommonJS, by path), finds its exported service
// classes, keeps those named by --service, and builds each one's constructor arguments from
// --args or --kwargs. Knows nothing of listening or logging; serve.ts does that.
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../errors.js';
import { describeService, isServiceClass, otherLoadedCopies, thisCopy } from '../server/index.js';
import { bindKwargs, formatParams, readConstructorParams } from './constructor-params.js';
import type { ConstructorParams } from './constructor-params.js';
import { fileKind, usage } from './options.js';

/** One exported service class. */
export interface FoundService {
  readonly name: string;
  readonly cls: new (...args: any[]) => unknown;
  /** How the module exports it, e.g. `MathService` or `default.MathService`. */
  readonly exportName: string;
  readonly methods: readonly string[];
}

export interface LoadedModule {
  readonly path: string;
  readonly services: readonly FoundService[];
}

const maxMessageChars = 1000;
const maxModuleBytes = 64 * 1024 * 1024;

function loadError(message: string, cause?: unknown): UsageError {
  return new UsageError('GAW_ERR_MODULE_LOAD', message, cause === undefined ? undefined : { cause });
}

function shorten(text: string): string {
  return text.length > maxMessageChars ? `${text.slice(0, maxMessageChars)}…` : text;
}

/** Imports the module at `path` (relative to `cwd`): a regular file of a sane size, else a clear UsageError. */
export async function importModule(
  path: string,
  cwd: string,
): Promise<{ absolute: string; namespace: Record<string, unknown> }> {
  if (path.trim() === '') throw usage('the module path is empty');
  const absolute = isAbsolute(path) ? path : resolve(cwd, path);
  try {
    // import() would read a device (/dev/zero) or a FIFO without end: only regular files of a sane size.
    const info = await stat(absolute);
    if (info.isDirectory())
      throw loadError(
        `cannot load ${JSON.stringify(path)}: it is a directory; give the module file, e.g. ${JSON.stringify(`${path}/index.js`)}`,
      );
    const kind = fileKind(info);
    if (kind !== 'file') throw loadError(`cannot load ${JSON.stringify(path)}: it is ${kind}, not a regular file`);
    if (info.size > maxModuleBytes)
      throw loadError(
        `cannot load ${JSON.stringify(path)}: it is ${info.size} bytes, more than a module may be (${maxModuleBytes})`,
      );
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw loadError(
      `cannot find the module ${JSON.stringify(path)}${absolute === path ? '' : ` (looked for ${absolute})`}`,
      err,
    );
  }
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (err) {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw loadError(`cannot load the module ${JSON.stringify(path)}: ${shorten(reason)}`, err);
  }
  return { absolute, namespace };
}

/** Imports the module at `path` (relative to `cwd`) and finds every exported service class. */
export async function loadServiceModule(path: string, cwd: string): Promise<LoadedModule> {
  const { namespace } = await importModule(path, cwd);
  const found = new Map<Function, string>();
  const exportNames: string[] = [];
  const consider = (exportName: string, value: unknown): void => {
    exportNames.push(exportName);
    if (typeof value === 'function' && !found.has(value) && isServiceClass(value)) found.set(value, exportName);
  };
  for (const [key, value] of Object.entries(namespace)) consider(key, value);
  const fallback = namespace.default;
  if (typeof fallback === 'object' && fallback !== null) {
    // CommonJS `module.exports = { ... }`, or a default-exported object of classes.
    for (const key of Object.keys(fallback)) {
      let value: unknown;
      try {
        value = (fallback as Record<string, unknown>)[key];
      } catch {
        continue;
      }
      consider(`default.${key}`, value);
    }
  }
  if (found.size === 0) {
    const listed = exportNames.length === 0 ? 'it has no exports' : `its exports: ${shorten(exportNames.join(', '))}`;
    throw new UsageError(
      'GAW_ERR_NOT_A_SERVICE',
      `the module ${JSON.stringify(path)} exports no service classes (a service is an exported class with a service name and exposed methods: static serviceName and static entrypoints, or @service / @entrypoint); ${listed}${twoCopiesHint()}`,
    );
  }
  const services: FoundService[] = [];
  for (const [cls, exportName] of found) {
    let description: ReturnType<typeof describeService>;
    try {
      description = describeService(cls);
    } catch (err) {
      throw new UsageError(
        'GAW_ERR_NOT_A_SERVICE',
        `the module ${JSON.stringify(path)}, export ${exportName}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    services.push({
      name: description.name,
      cls: cls as FoundService['cls'],
      exportName,
      methods: [...description.methods.keys()],
    });
  }
  return { path, services };
}

/** When the module loaded another copy of gaw: the likely reason its decorated classes are not seen. */
function twoCopiesHint(): string {
  const others = otherLoadedCopies();
  if (others.length === 0) return '';
  return (
    `. Two copies of gaw are loaded, which is the likely cause: this gaw command runs from ${JSON.stringify(thisCopy())} and the module imported gaw from ${others.map((o) => JSON.stringify(o)).join(', ')}, ` +
    "and @service / @entrypoint mark classes only in the copy that ran them. Run the project's own gaw (npx gaw, or node_modules/.bin/gaw), or install gaw once"
  );
}

/** Keeps the services named in `names` (all when none are given); an unknown name lists the available ones. */
export function selectServices(loaded: LoadedModule, names: readonly string[]): FoundService[] {
  const available = [...new Set(loaded.services.map((s) => s.name))];
  let selected: FoundService[] = [...loaded.services];
  if (names.length > 0) {
    const unknown = names.filter((name) => !available.includes(name));
    if (unknown.length > 0) {
      throw usage(
        `unknown --service ${unknown.map((n) => JSON.stringify(n)).join(', ')}; ${JSON.stringify(loaded.path)} offers: ${available.join(', ')}`,
      );
    }
    selected = loaded.services.filter((s) => names.includes(s.name));
  }
  const seen = new Map<string, FoundService>();
  for (const service of selected) {
    const other = seen.get(service.name);
    if (other !== undefined) {
      throw new UsageError(
        'GAW_ERR_DUPLICATE_SERVICE',
        `the exports ${other.exportName} and ${service.exportName} are two different classes with the same service name ${JSON.stringify(service.name)}`,
      );
    }
    seen.set(service.name, service);
  }
  return selected;
}

/**
 * Each service's constructor arguments: `args` as given, or `kwargs` bound to the constructor's
 * parameter names. With several services each takes the names its constructor declares; a name
 * that no selected constructor takes is an error.
 */
export function constructorArguments(
  services: readonly FoundService[],
  args: readonly unknown[] | undefined,
  kwargs: Readonly<Record<string, unknown>> | undefined,
): Map<FoundService, unknown[]> {
  if (args !== undefined && kwargs !== undefined) throw usage('give --args or --kwargs, not both');
  const result = new Map<FoundService, unknown[]>();
  if (kwargs === undefined) {
    for (const service of services) result.set(service, [...(args ?? [])]);
    return result;
  }
  const lists = new Map<FoundService, ConstructorParams>();
  for (const service of services) {
    const list = readConstructorParams(service.cls);
    if (typeof list === 'string') {
      throw usage(
        `--kwargs cannot be bound to ${service.exportName} (${service.name}): the parameters of its constructor cannot be read (${list}); pass them by position with --args`,
      );
    }
    lists.set(service, list);
  }
  const takes = (list: ConstructorParams, key: string) => list.params.includes(key) || list.restParam === key;
  for (const key of Object.keys(kwargs)) {
    if ([...lists.values()].some((list) => takes(list, key))) continue;
    const signatures = [...lists].map(([s, list]) => `${s.name} ${formatParams(list)}`).join('; ');
    throw usage(`--kwargs names ${JSON.stringify(key)}, which no selected constructor takes: ${signatures}`);
  }
  for (const [service, list] of lists) {
    const own = Object.fromEntries(Object.entries(kwargs).filter(([key]) => takes(list, key)));
    result.set(service, bindKwargs(service.name, list, own));
  }
  return result;
}
