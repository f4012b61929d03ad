// Enforces maxDepth on received JSON for the json codec. V8's JSON.parse does not overflow the stack
// on deep input, but parsing megabytes of `[[[[` costs seconds and hundreds of MB, so large inputs
// are scanned as bytes first; small ones are parsed and then walked. Knows nothing of tags.
import { SerializationError } from '../errors.js';
import { formatPath, type PathKey } from './path.js';

/** Inputs at least this long are scanned for depth before JSON.parse sees them. */
export const jsonScanThresholdBytes = 16 * 1024;

function tooDeep(maxDepth: number, path?: string): SerializationError {
  const where = path === undefined ? 'received data' : `the data at ${path}`;
  return new SerializationError('GAW_ERR_DEPTH_EXCEEDED', `${where} nests deeper than maxDepth (${maxDepth})`, {
    path: path ?? '',
  });
}

/**
 * Scans JSON bytes for bracket nesting (skipping string contents) and throws as soon as it passes
 * maxDepth. Says nothing about validity: JSON.parse judges that afterwards.
 */
export function scanJsonDepth(b: Uint8Array, maxDepth: number): void {
  const n = b.length;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) throw tooDeep(maxDepth);
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    } else if (c === 0x22) {
      for (i++; i < n && b[i] !== 0x22; i++) if (b[i] === 0x5c) i++;
    }
  }
}

class TooDeep {
  readonly keys: PathKey[] = [];
}

const ownProperty = Object.prototype.hasOwnProperty;

function walk(d: object, level: number, maxDepth: number): void {
  if (level > maxDepth) throw new TooDeep();
  if (Array.isArray(d)) {
    for (let i = 0; i < d.length; i++) {
      const x: unknown = d[i];
      if (typeof x === 'object' && x !== null) walkInto(x, level, maxDepth, i);
    }
  } else if (!ArrayBuffer.isView(d)) {
    for (const k in d) {
      if (!ownProperty.call(d, k)) continue;
      const x: unknown = (d as Record<string, unknown>)[k];
      if (typeof x === 'object' && x !== null) walkInto(x, level, maxDepth, k);
    }
  }
}

function walkInto(x: object, level: number, maxDepth: number, key: PathKey): void {
  try {
    walk(x, level + 1, maxDepth);
  } catch (err) {
    if (err instanceof TooDeep) err.keys.push(key);
    throw err;
  }
}

/** Throws GAW_ERR_DEPTH_EXCEEDED, naming the path, when parsed data nests deeper than maxDepth. */
export function checkDepth(data: unknown, maxDepth: number): void {
  if (typeof data !== 'object' || data === null) return;
  try {
    walk(data, 1, maxDepth);
  } catch (err) {
    if (!(err instanceof TooDeep)) throw err;
    const keys = err.keys.reverse();
    throw tooDeep(maxDepth, formatPath('', keys, keys.length));
  }
}
