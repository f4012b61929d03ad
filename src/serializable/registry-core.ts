// The class-tag registry, free of Node built-ins: which classes cross the wire under which tag,
// its `serializable` decorator, and the conversions between values and plain wire data, with
// bytes as plain Uint8Array unless given other byte forms. Node's Registry (registry.ts) uses
// Buffers; the browser client uses this one. The walks live in encode.ts and decode.ts.
import { UsageError } from '../errors.js';
import { portableBytes } from './bytes.js';
import type { ByteForms } from './bytes.js';
import { Decoder } from './decode.js';
import { Encoder } from './encode.js';
import { quote } from './path.js';
import { builtinTags, defaultMaxDepth, maxDepthLimit, type ClassEntry, type Tables } from './registry-tables.js';

/** How a class crosses the wire. */
export interface RegisterOptions<T> {
  /** The name on the wire (`_t`). Python Gaw uses the class name. */
  tag: string;
  /** Send and rebuild only these own fields; by default every own enumerable field. */
  fields?: readonly string[];
  /** Turns an instance into any encodable value, sent as `_v`; for state that is not own fields. */
  toJSON?(value: T): unknown;
  /** Builds an instance from the decoded `_v`; use it for classes with #private fields or invariants. */
  fromJSON?(data: any): T;
}

export interface RegistryOptions {
  /** Deepest nesting of wire containers accepted and produced; default 64, at most 1000. */
  maxDepth?: number;
}

export interface EncodeOptions {
  /** Leave Uint8Array / Buffer values as they are (for msgpack's bin type) instead of base64 tags. */
  binaryBytes?: boolean;
  /** The name of the value in error messages, e.g. `result`. */
  path?: string;
  /**
   * How many wire containers hold the value (default 0): they count toward maxDepth, as when a
   * JSON-RPC result (depth 1) is encoded apart from its response object.
   */
  depth?: number;
}

export interface DecodeOptions {
  /** The name of the data in error messages, e.g. `params`. */
  path?: string;
}

/** A TC39 standard class decorator (also callable as a plain function on a class). */
export type SerializableDecorator = <C extends abstract new (...args: any) => any>(
  cls: C,
  context?: ClassDecoratorContext<C>,
) => void;

type AnyClass = abstract new (...args: any[]) => unknown;

function invalid(message: string): UsageError {
  return new UsageError('GAW_ERR_INVALID_OPTION', message);
}

export function checkMaxDepth(maxDepth: unknown): number {
  if (maxDepth === undefined) return defaultMaxDepth;
  if (typeof maxDepth !== 'number' || !Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > maxDepthLimit) {
    throw invalid(`maxDepth must be an integer from 1 to ${maxDepthLimit}, got ${String(maxDepth)}`);
  }
  return maxDepth;
}

/**
 * Classes by tag, and the conversions between values and plain wire data. Registries are
 * independent: a tag registered in one is unknown to every other (the built-in tags are in all).
 */
export class Registry {
  readonly #tables: Tables;
  readonly #encoder: Encoder;
  readonly #binaryEncoder: Encoder;
  readonly #decoder: Decoder;

  /** `bytes`: how byte strings look in memory (default plain Uint8Array; Node's Registry passes Buffers). */
  constructor(options: RegistryOptions = {}, bytes: ByteForms = portableBytes) {
    this.#tables = {
      byTag: new Map(),
      byPrototype: new Map(),
      maxDepth: checkMaxDepth(options?.maxDepth),
      bytes,
    };
    this.#encoder = new Encoder(this.#tables, false);
    this.#binaryEncoder = new Encoder(this.#tables, true);
    this.#decoder = new Decoder(this.#tables);
  }

  get maxDepth(): number {
    return this.#tables.maxDepth;
  }

  /** Registers `cls` under `options.tag`. A tag or class registered twice is a UsageError. */
  register<T>(cls: abstract new (...args: any[]) => T, options: RegisterOptions<T>): this {
    const prototype: unknown = typeof cls === 'function' ? (cls as { prototype?: unknown }).prototype : undefined;
    if (typeof prototype !== 'object' || prototype === null)
      throw invalid('register() needs a class as its first argument');
    if ((cls as unknown) === Object || (cls as unknown) === Array)
      throw invalid('plain objects and arrays need no registration');
    if (typeof options !== 'object' || options === null) throw invalid('register() needs an options object with a tag');
    const { tag, fields, toJSON, fromJSON } = options;
    if (typeof tag !== 'string' || tag.length === 0 || tag.length > 256) {
      throw invalid('a serializable tag must be a string of 1 to 256 characters');
    }
    if (builtinTags.has(tag)) throw new UsageError('GAW_ERR_DUPLICATE_TAG', `tag ${quote(tag)} is a built-in tag`);
    const existing = this.#tables.byTag.get(tag);
    if (existing !== undefined) {
      throw new UsageError(
        'GAW_ERR_DUPLICATE_TAG',
        `tag ${quote(tag)} is already registered for class ${existing.className}`,
      );
    }
    const previous = this.#tables.byPrototype.get(prototype);
    if (previous !== undefined)
      throw invalid(`class ${cls.name} is already registered under tag ${quote(previous.tag)}`);
    if (fields !== undefined && !(Array.isArray(fields) && fields.every((f) => typeof f === 'string'))) {
      throw invalid(`the fields of tag ${quote(tag)} must be an array of strings`);
    }
    if (toJSON !== undefined && typeof toJSON !== 'function')
      throw invalid(`the toJSON hook of tag ${quote(tag)} must be a function`);
    if (fromJSON !== undefined && typeof fromJSON !== 'function')
      throw invalid(`the fromJSON hook of tag ${quote(tag)} must be a function`);
    const entry: ClassEntry = {
      tag,
      className: cls.name || '(anonymous class)',
      prototype,
      fields: fields === undefined ? undefined : Object.freeze([...new Set(fields)]),
      toJSON: toJSON === undefined ? undefined : (value: unknown) => toJSON.call(options, value as T),
      fromJSON: fromJSON === undefined ? undefined : (data: unknown) => fromJSON.call(options, data),
    };
    this.#tables.byTag.set(tag, entry);
    this.#tables.byPrototype.set(prototype, entry);
    return this;
  }

  /** True when decoding understands `tag`: a class registered here, or a built-in tag. */
  has(tag: string): boolean {
    return this.#tables.byTag.has(tag) || builtinTags.has(tag);
  }

  /** The tags of the classes registered here (not the built-in tags). */
  tags(): string[] {
    return [...this.#tables.byTag.keys()];
  }

  /**
   * Value -> plain wire data: only plain objects, arrays, strings, finite numbers, booleans and null
   * (plus Uint8Array when `binaryBytes`). Parts that need no change are returned as they are, not
   * copied. Throws SerializationError GAW_ERR_UNENCODABLE (naming the path) or GAW_ERR_DEPTH_EXCEEDED.
   */
  encode(value: unknown, options?: EncodeOptions): unknown {
    const encoder = options?.binaryBytes === true ? this.#binaryEncoder : this.#encoder;
    return encoder.encode(value, options?.path ?? '', options?.depth);
  }

  /**
   * Plain wire data -> values with registered classes rebuilt. The input is not modified. Throws
   * SerializationError (GAW_ERR_UNKNOWN_TAG, GAW_ERR_BAD_TAGGED_VALUE, GAW_ERR_DEPTH_EXCEEDED,
   * GAW_ERR_DECODE for values no parser produces) naming the tag and path.
   */
  decode(data: unknown, options?: DecodeOptions): unknown {
    return this.#decoder.decode(data, options?.path ?? '');
  }

  /** A `@serializable(tag)` decorator that registers into this registry. */
  serializable(tag: string, options: Omit<RegisterOptions<any>, 'tag'> = {}): SerializableDecorator {
    return (cls, context) => {
      if (context !== undefined && context.kind !== 'class') throw invalid('@serializable decorates classes only');
      this.register(cls as AnyClass, { ...options, tag });
    };
  }
}

/** `register` and `serializable` bound to `registry`: the functions a default registry is filled by. */
export function registrationFunctions(registry: Registry): {
  register: <T>(cls: abstract new (...args: any[]) => T, options: RegisterOptions<T>) => void;
  serializable: (tag: string, options?: Omit<RegisterOptions<any>, 'tag'>) => SerializableDecorator;
} {
  return {
    register: (cls, options) => {
      registry.register(cls, options);
    },
    serializable: (tag, options) => registry.serializable(tag, options),
  };
}
