// How the encode and decode walks report a problem without tracking paths on the hot path: the
// failing level throws a WalkFailure, and each enclosing level adds its key (and container) while
// the stack unwinds; the entry point turns it into a SerializationError naming the full path.
import { SerializationError, type ErrorCode } from '../errors.js';
import { formatPath, sanitize, type PathKey } from './path.js';

export class WalkFailure {
  /** Keys from the failing value outwards; reversed by `finish`. */
  readonly keys: PathKey[] = [];
  /** The container holding each key, same order as `keys`. */
  readonly containers: unknown[] = [];

  constructor(
    readonly code: ErrorCode,
    /** Builds the message once the path is known. */
    readonly message: (path: string) => string,
    /** The value the failure is about (for cycle detection). */
    readonly value: unknown = undefined,
    readonly cause: unknown = undefined,
  ) {}
}

/** The message of something thrown, escaped and shortened: it may quote data from the peer. */
export function reasonOf(err: unknown): string {
  let text: string;
  try {
    text = err instanceof Error ? err.message : String(err);
  } catch {
    text = 'an unprintable value was thrown';
  }
  return sanitize(text, 200);
}

function toFailure(err: unknown, doing: 'encode' | 'decode'): WalkFailure {
  if (err instanceof WalkFailure) return err;
  const code: ErrorCode = doing === 'encode' ? 'GAW_ERR_UNENCODABLE' : 'GAW_ERR_DECODE';
  return new WalkFailure(code, (path) => `cannot ${doing} the value at ${path}: ${reasonOf(err)}`, undefined, err);
}

/**
 * Adds one step of path to a failure thrown below it. Anything else thrown below (a getter, a hook,
 * a proxy trap) becomes a failure at this step, described by `doing` ('encode' or 'decode').
 */
export function addStep(err: unknown, key: PathKey, container: unknown, doing: 'encode' | 'decode'): WalkFailure {
  const failure = toFailure(err, doing);
  failure.keys.push(key);
  failure.containers.push(container);
  return failure;
}

/** The SerializationError for a failure (or a foreign error) that reached the entry point `root`. */
export function finish(err: unknown, root: string, doing: 'encode' | 'decode', maxDepth: number): SerializationError {
  if (err instanceof SerializationError) return err;
  const failure = toFailure(err, doing);
  const keys = failure.keys.reverse();
  const chain = failure.containers.reverse();
  chain.push(failure.value);
  if (failure.code === 'GAW_ERR_DEPTH_EXCEEDED' && doing === 'encode') {
    // Deep data or a cycle: a cycle is some container repeating on the path from the root.
    for (let j = 1; j < chain.length; j++) {
      const a = chain[j];
      if (typeof a !== 'object' || a === null) continue;
      const i = chain.indexOf(a);
      if (i < j) {
        const at = formatPath(root, keys, j);
        const message = `cannot encode a cycle: ${at} refers back to ${formatPath(root, keys, i)}`;
        return new SerializationError('GAW_ERR_UNENCODABLE', message, { path: at });
      }
    }
  }
  const path = formatPath(root, keys, keys.length);
  const message =
    failure.code === 'GAW_ERR_DEPTH_EXCEEDED'
      ? `the ${doing === 'encode' ? 'value' : 'data'} at ${path} nests deeper than maxDepth (${maxDepth})`
      : failure.message(path);
  return new SerializationError(failure.code, message, { path, cause: failure.cause });
}
