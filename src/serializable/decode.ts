// Plain wire data -> values: `{_t, _v}` maps become built-in types or registered class instances
// (own data fields given the class prototype, or the class's fromJSON hook; never its constructor).
// The input is never modified and untouched subtrees are returned as they are. No bytes or codecs.
import type { ErrorCode } from '../errors.js';
import { maxBigintDigits, parseBigint, parseDatetime, parseNonFinite, parseUuid } from './builtins.js';
import { describe, quote } from './path.js';
import { setOwn, type ClassEntry, type Tables } from './registry-tables.js';
import { addStep, finish, reasonOf, WalkFailure } from './walk-failure.js';

const objectPrototype = Object.prototype;
const getPrototypeOf = Object.getPrototypeOf;
const hasOwn = Object.hasOwn;
const ownProperty = Object.prototype.hasOwnProperty;
const isArray = Array.isArray;

type Plain = Record<string, unknown>;

function isPlainObject(d: unknown): d is Plain {
  if (typeof d !== 'object' || d === null || isArray(d)) return false;
  const proto: unknown = getPrototypeOf(d);
  return proto === objectPrototype || proto === null;
}

/** Wire scalars need no walk; anything else (containers, and values no parser makes) goes through value(). */
function isScalar(x: unknown): boolean {
  const t = typeof x;
  return t === 'string' || t === 'number' || t === 'boolean' || x === null || t === 'undefined';
}

function failure(code: ErrorCode, message: (path: string) => string, cause?: unknown): WalkFailure {
  return new WalkFailure(code, message, undefined, cause);
}

function badBody(tag: string, expected: string, body: unknown): WalkFailure {
  const got = body === undefined ? 'missing' : describe(body);
  return failure(
    'GAW_ERR_BAD_TAGGED_VALUE',
    (path) => `the ${quote(tag)} value at ${path} must have a _v that is ${expected}; it is ${got}`,
  );
}

/** The decode walk of one registry; it keeps no per-call state. `level` counts wire containers. */
export class Decoder {
  readonly #tables: Tables;

  constructor(tables: Tables) {
    this.#tables = tables;
  }

  /** Decodes plain wire data; `root` names it in error messages. */
  decode(data: unknown, root: string): unknown {
    try {
      return this.#value(data, 0);
    } catch (err) {
      throw finish(err, root, 'decode', this.#tables.maxDepth);
    }
  }

  #value(d: unknown, level: number): unknown {
    switch (typeof d) {
      case 'string':
      case 'number':
      case 'boolean':
      case 'undefined':
        return d;
      case 'object': {
        if (d === null) return d;
        if (isArray(d)) return this.#array(d, level);
        const proto: unknown = getPrototypeOf(d);
        if (proto === objectPrototype || proto === null) {
          return hasOwn(d, '_t') ? this.#tagged(d as Plain, level) : this.#object(d as Plain, level);
        }
        if (d instanceof Uint8Array) return this.#tables.bytes.adopt(d);
        break;
      }
    }
    throw failure('GAW_ERR_DECODE', (path) => `wire data at ${path} is ${describe(d)}, not plain data`);
  }

  #array(d: readonly unknown[], level: number): unknown[] {
    const inner = this.#deeper(level);
    const n = d.length;
    let out: unknown[] | undefined;
    for (let i = 0; i < n; i++) {
      const x = d[i];
      let y = x;
      if (!isScalar(x)) {
        try {
          y = this.#value(x, inner);
        } catch (err) {
          throw addStep(err, i, d, 'decode');
        }
      }
      if (out !== undefined) out.push(y);
      else if (y !== x) {
        out = [];
        for (let j = 0; j < i; j++) out.push(d[j]);
        out.push(y);
      }
    }
    return out ?? (d as unknown[]);
  }

  #object(d: Plain, level: number): Plain {
    const inner = this.#deeper(level);
    let out: Plain | undefined;
    for (const k in d) {
      if (!ownProperty.call(d, k)) continue; // for-in with this check is V8's fastest own-key walk
      const x = d[k];
      if (isScalar(x)) continue;
      let y: unknown;
      try {
        y = this.#value(x, inner);
      } catch (err) {
        throw addStep(err, k, d, 'decode');
      }
      if (y !== x) (out ??= { ...d })[k] = y; // spread makes own data properties, even for `__proto__`
    }
    return out ?? d;
  }

  #tagged(d: Plain, level: number): unknown {
    const inner = this.#deeper(level);
    const tag = d._t;
    const hasBody = hasOwn(d, '_v');
    for (const k in d) {
      if (k !== '_t' && k !== '_v' && ownProperty.call(d, k)) {
        throw failure(
          'GAW_ERR_BAD_TAGGED_VALUE',
          (path) => `the tagged value at ${path} has a key ${quote(k)} besides _t and _v`,
        );
      }
    }
    if (typeof tag !== 'string') {
      throw failure('GAW_ERR_UNKNOWN_TAG', (path) => `the tag (_t) at ${path} is ${describe(tag)}, not a string`);
    }
    const body = d._v;
    const entry = this.#tables.byTag.get(tag);
    if (entry !== undefined) return this.#instance(entry, body, hasBody, inner);
    switch (tag) {
      case 'object':
        if (!isPlainObject(body)) throw badBody(tag, 'an object of entries', body);
        return this.#fields({ ...body }, inner);
      case 'datetime': {
        const time = typeof body === 'string' ? parseDatetime(body) : undefined;
        if (time === undefined) throw badBody(tag, 'an ISO-8601 date-time string', body);
        return new Date(time);
      }
      case 'tuple':
      case 'set': {
        if (!isArray(body)) throw badBody(tag, 'an array', body);
        const items = this.#array(body, inner);
        return tag === 'set' ? new Set(items) : items;
      }
      case 'map':
        return this.#map(body, inner);
      case 'bigint': {
        const n = typeof body === 'string' ? parseBigint(body) : undefined;
        if (n === undefined) throw badBody(tag, `a decimal integer string of at most ${maxBigintDigits} digits`, body);
        return n;
      }
      case 'bytes': {
        if (body instanceof Uint8Array) return this.#tables.bytes.adopt(body);
        const bytes = typeof body === 'string' ? this.#tables.bytes.fromBase64(body) : undefined;
        if (bytes === undefined) throw badBody(tag, 'a padded standard base64 string or binary', body);
        return bytes;
      }
      case 'undefined':
        if (body !== undefined && body !== null) throw badBody(tag, 'null or absent', body);
        return undefined;
      case 'number': {
        const n = typeof body === 'string' ? parseNonFinite(body) : undefined;
        if (n === undefined) throw badBody(tag, '"NaN", "Infinity" or "-Infinity"', body);
        return n;
      }
      case 'uuid': {
        const text = typeof body === 'string' ? parseUuid(body) : undefined;
        if (text === undefined) throw badBody(tag, 'a UUID string', body);
        return text;
      }
    }
    throw failure(
      'GAW_ERR_UNKNOWN_TAG',
      (path) => `unknown tag ${quote(tag)} at ${path}: no class is registered under it`,
    );
  }

  #map(body: unknown, inner: number): Map<unknown, unknown> {
    if (!isArray(body)) throw badBody('map', 'an array of [key, value] pairs', body);
    const pairLevel = this.#deeper(this.#deeper(inner));
    const out = new Map<unknown, unknown>();
    for (let i = 0; i < body.length; i++) {
      const pair: unknown = body[i];
      if (!isArray(pair) || pair.length !== 2) {
        const notPair = failure(
          'GAW_ERR_BAD_TAGGED_VALUE',
          (path) => `the "map" entry at ${path} is ${describe(pair)}, not a [key, value] pair`,
        );
        throw addStep(notPair, i, body, 'decode');
      }
      let side = 0;
      try {
        const key = this.#value(pair[0], pairLevel);
        side = 1;
        out.set(key, this.#value(pair[1], pairLevel));
      } catch (err) {
        throw addStep(addStep(err, side, pair, 'decode'), i, body, 'decode');
      }
    }
    return out;
  }

  #instance(entry: ClassEntry, body: unknown, hasBody: boolean, inner: number): unknown {
    if (entry.fromJSON === undefined) {
      if (!isPlainObject(body)) throw badBody(entry.tag, 'an object of fields', body);
      // A plain copy (spread and setOwn make own data properties, so no setter ever sees wire data)
      // given the class's prototype afterwards: no constructor runs. Faster than Object.create
      // followed by guarded writes, and the result keeps V8's fast properties.
      let fields: Plain;
      if (entry.fields === undefined) {
        fields = { ...body };
      } else {
        fields = {};
        for (const k of entry.fields) if (hasOwn(body, k)) setOwn(fields, k, body[k]);
      }
      return Object.setPrototypeOf(this.#fields(fields, inner), entry.prototype);
    }
    const data = hasBody ? this.#value(body, inner) : undefined;
    try {
      return entry.fromJSON(data);
    } catch (err) {
      const reason = reasonOf(err);
      throw failure(
        'GAW_ERR_BAD_TAGGED_VALUE',
        (path) => `the fromJSON hook of tag ${quote(entry.tag)} rejected the value at ${path}: ${reason}`,
        err,
      );
    }
  }

  /** Decodes in place the values of `fields`, a fresh plain copy that is an object at `level` + 1. */
  #fields(fields: Plain, level: number): Plain {
    const inner = this.#deeper(level);
    for (const k in fields) {
      if (!ownProperty.call(fields, k)) continue;
      const x = fields[k];
      if (isScalar(x)) continue;
      try {
        fields[k] = this.#value(x, inner); // an own data property already: a plain write is safe
      } catch (err) {
        throw addStep(err, k, fields, 'decode');
      }
    }
    return fields;
  }

  #deeper(level: number): number {
    if (level >= this.#tables.maxDepth) throw failure('GAW_ERR_DEPTH_EXCEEDED', () => '');
    return level + 1;
  }
}
