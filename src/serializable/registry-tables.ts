// Internal pieces the registry and the encode / decode walks share: the shape of one registry's
// lookup tables (the registry fills them, the walks read them), the built-in tag names, the depth
// bounds and the safe own-property write. Not part of the public API.
import type { ByteForms } from './bytes.js';

/** How one registered class crosses the wire. */
export interface ClassEntry {
  readonly tag: string;
  readonly className: string;
  /** The prototype decoded instances get; the key encoding looks values up by. */
  readonly prototype: object;
  /** When given, only these own fields are sent and rebuilt. */
  readonly fields: readonly string[] | undefined;
  readonly toJSON: ((value: any) => unknown) | undefined;
  readonly fromJSON: ((data: any) => unknown) | undefined;
}

export interface Tables {
  readonly byTag: Map<string, ClassEntry>;
  readonly byPrototype: Map<object, ClassEntry>;
  readonly maxDepth: number;
  /** Bytes in memory: Buffers in Node, plain Uint8Arrays in the browser (bytes.ts). */
  readonly bytes: ByteForms;
}

/** Tags every registry understands; a class can never be registered under one of them. */
export const builtinTags: ReadonlySet<string> = new Set([
  'object',
  'datetime',
  'set',
  'tuple',
  'map',
  'bigint',
  'bytes',
  'undefined',
  'number',
  'uuid',
]);

/** The largest maxDepth a registry or codec accepts: the walkers recurse once per level. */
export const maxDepthLimit = 1000;
export const defaultMaxDepth = 64;

/**
 * Sets an own data property. Keys the prototype chain already has (`__proto__`, `toString`, a
 * setter) are defined rather than assigned, so no setter runs and no prototype ever changes.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key in target) {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
