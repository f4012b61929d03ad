// One atomic read of some service names (readScript) and its reply checked: every record parsed
// and validated (size, shape, address, that it names the service it was listed under); refused
// ones counted, never used. Also the small helpers the watcher shares: glob checks and a bound.
import { UsageError } from '../errors.js';
import type { RedisLink } from '../redis/index.js';
import { globToRegExp, isServiceName, maxRecordBytes, parseRecord } from './record.js';
import { namesScript, readScript, scriptKeys } from './scripts.js';
import type { RegistryKeys } from './scripts.js';
import { toInstance } from './view.js';
import type { Instance } from './view.js';

export const maxInstances = 1024;

export interface Snapshot {
  /** The registry's rev when read (NaN when the reply had none). */
  readonly rev: number;
  readonly services: Map<string, Instance[]>;
  /** Records refused by validation, with why (for the debug log). */
  readonly refused: { service: string; why: string }[];
}

/** Reads `names` (at most ~128 at once) in one script call, bounded by `timeoutMs` when given. */
export async function readSnapshot(
  cmd: RedisLink,
  keys: RegistryKeys,
  names: readonly string[],
  timeoutMs?: number,
): Promise<Snapshot> {
  const args = [keys.prefix, String(maxRecordBytes), String(maxInstances), ...names];
  const reply = await withTimeout(cmd.script<unknown[]>(readScript, scriptKeys(keys), args), timeoutMs);
  return parseSnapshot(reply);
}

/** Up to `maxNames` of the names with a live instance (the small `names` set; never a key scan). */
export async function readNames(cmd: RedisLink, keys: RegistryKeys, maxNames: number): Promise<string[]> {
  const reply = await cmd.script<unknown[]>(namesScript, scriptKeys(keys), [String(maxNames)]);
  return Array.isArray(reply) ? reply.slice(1).filter((name): name is string => isServiceName(name)) : [];
}

export function parseSnapshot(reply: unknown): Snapshot {
  const services = new Map<string, Instance[]>();
  const refused: { service: string; why: string }[] = [];
  if (!Array.isArray(reply)) return { rev: Number.NaN, services, refused };
  for (const entry of reply.slice(1)) {
    if (!Array.isArray(entry) || !isServiceName(entry[0]) || !Array.isArray(entry[1])) continue;
    const name = entry[0];
    const flat = entry[1] as unknown[];
    const instances: Instance[] = [];
    for (let j = 0; j + 1 < flat.length; j += 2) {
      const record = parseRecord(flat[j + 1], String(flat[j]));
      if (typeof record === 'string' || !record.services.includes(name)) {
        refused.push({ service: name, why: typeof record === 'string' ? record : 'does not list the service' });
        continue;
      }
      instances.push(toInstance(record));
    }
    services.set(name, instances);
  }
  return { rev: Number(reply[0]), services, refused };
}

export function checkedGlob(pattern: string): RegExp {
  try {
    return globToRegExp(pattern);
  } catch {
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'a service pattern is 1 to 256 characters (Redis glob syntax)');
  }
}

export function withTimeout<T>(promise: Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (timeoutMs === undefined) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timedOut]).finally(() => clearTimeout(timer));
}
