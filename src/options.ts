// Option bags checked for keys nobody reads: `{ idempotent: true }` where the option is
// `isIdempotent` would otherwise switch retries off without a word. Every public option bag goes
// through checkOptionKeys, so JavaScript callers get what TypeScript callers get from the compiler.
import { UsageError } from './errors.js';

/** Edit distance (insertions, deletions, substitutions), for "did you mean" hints. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

function sharedPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/** The known key closest to `key`, ignoring case and an `is` prefix (close: a few edits away, or
 * the same first four letters); undefined when none is close. */
export function nearestKey(key: string, known: Iterable<string>): string | undefined {
  const plain = (k: string) => k.toLowerCase().replace(/^is(?=[a-z])/, '');
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = Math.min(distance(lower, candidate.toLowerCase()), distance(plain(key), plain(candidate)));
    const isClose = d <= Math.max(2, Math.floor(key.length / 3)) || sharedPrefix(lower, candidate.toLowerCase()) >= 4;
    if (isClose && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Option names of earlier releases, and the one name each limit has now. */
const renamedKeys: Readonly<Record<string, string>> = {
  maxFrameBytes: 'maxPayloadBytes',
  maxMessageBytes: 'maxPayloadBytes',
};

/**
 * Throws a UsageError naming the first key of `options` that is not in `known` (and the nearest
 * known key, or the name it was renamed to). `where` names the bag: `GawClient options`, `call options`.
 */
export function checkOptionKeys(options: object | undefined, known: ReadonlySet<string>, where: string): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new UsageError('GAW_ERR_INVALID_OPTION', `${where} must be an object`);
  for (const key in options) {
    if (known.has(key)) continue;
    const renamed = Object.hasOwn(renamedKeys, key) ? renamedKeys[key] : undefined;
    const near = renamed !== undefined && known.has(renamed) ? renamed : nearestKey(key, known);
    const shown = JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}...` : key);
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `${where} have no option ${shown}${near === undefined ? '' : `; did you mean ${near}?`}`,
    );
  }
}
