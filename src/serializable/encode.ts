// Values -> plain wire data: registered class instances and built-in types become `{_t, _v}` maps,
// plain objects with their own `_t` key get the `object` escape. Subtrees that need no change are
// returned as they are (nothing is copied on the common path). Knows nothing of bytes or codecs.
import { nonFiniteText } from './builtins.js';
import { describe, quote } from './path.js';
import { setOwn, type ClassEntry, type Tables } from './registry-tables.js';
import { addStep, finish, reasonOf, WalkFailure } from './walk-failure.js';

const objectPrototype = Object.prototype;
const getPrototypeOf = Object.getPrototypeOf;
const isArray = Array.isArray;
const ownProperty = Object.prototype.hasOwnProperty;

function isWireScalar(x: unknown): boolean {
  return typeof x === 'string' || typeof x === 'boolean' || x === null || (typeof x === 'number' && x - x === 0);
}

function unencodable(what: string, hint = '', value?: unknown, cause?: unknown): WalkFailure {
  return new WalkFailure('GAW_ERR_UNENCODABLE', (path) => `cannot encode ${what} at ${path}${hint}`, value, cause);
}

/**
 * The encode walk of one registry, for one bytes mode; it keeps no per-call state. `level` counts
 * the wire containers (maps and arrays, including the `{_t, _v}` maps this walk adds) around a
 * value, so what is sent never nests deeper than maxDepth. Paths are added only on failure.
 */
export class Encoder {
  readonly #tables: Tables;
  readonly #binaryBytes: boolean;

  constructor(tables: Tables, binaryBytes: boolean) {
    this.#tables = tables;
    this.#binaryBytes = binaryBytes;
  }

  /**
   * Encodes `value` into plain wire data; `root` names it in error messages, and `depth` wire
   * containers already hold it (1 for a JSON-RPC result written inside its response's text).
   */
  encode(value: unknown, root: string, depth = 0): unknown {
    try {
      return this.#value(value, depth);
    } catch (err) {
      throw finish(err, root, 'encode', this.#tables.maxDepth);
    }
  }

  #value(v: unknown, level: number): unknown {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        return v - v === 0 ? v : this.#wrap('number', nonFiniteText(v), level);
      case 'object': {
        if (v === null) return v;
        if (isArray(v)) return this.#array(v, level);
        const proto: object | null = getPrototypeOf(v);
        if (proto === objectPrototype || proto === null) return this.#object(v as Record<string, unknown>, level);
        return this.#special(v, proto, level);
      }
      case 'undefined':
        this.#deeper(level, v);
        return { _t: 'undefined' };
      case 'bigint':
        return this.#wrap('bigint', v.toString(), level);
      default:
        throw unencodable(describe(v));
    }
  }

  #array(v: readonly unknown[], level: number): unknown[] {
    const inner = this.#deeper(level, v);
    const n = v.length;
    let out: unknown[] | undefined;
    for (let i = 0; i < n; i++) {
      const x = v[i];
      let y = x;
      if (!isWireScalar(x)) {
        try {
          y = this.#value(x, inner);
        } catch (err) {
          throw addStep(err, i, v, 'encode');
        }
      }
      if (out !== undefined) out.push(y);
      else if (y !== x) {
        out = [];
        for (let j = 0; j < i; j++) out.push(v[j]);
        out.push(y);
      }
    }
    return out ?? (v as unknown[]);
  }

  #object(v: Record<string, unknown>, level: number): object {
    const inner = this.#deeper(level, v);
    let out: Record<string, unknown> | undefined; // a copy, made at the first entry that changes
    for (const k in v) {
      if (!ownProperty.call(v, k)) continue; // for-in with this check is V8's fastest own-key walk
      if (k === '_t') return { _t: 'object', _v: this.#body({ ...v }, this.#deeper(level, v), v) };
      try {
        const x = v[k];
        if (isWireScalar(x)) continue;
        if (x === undefined) {
          out ??= { ...v }; // spread defines own data properties, even for a `__proto__` key
          delete out[k]; // like JSON: an undefined property is left out
          continue;
        }
        const y = this.#value(x, inner);
        if (y !== x) (out ??= { ...v })[k] = y;
      } catch (err) {
        throw addStep(err, k, v, 'encode');
      }
    }
    return out ?? v;
  }

  /**
   * Encodes in place the values of `body`, a fresh copy of `container`'s fields that becomes a
   * `_v` object at `level` + 1. Its keys are all own data properties, so assignment is safe.
   */
  #body(body: Record<string, unknown>, level: number, container: unknown): Record<string, unknown> {
    const inner = this.#deeper(level, container);
    for (const k in body) {
      if (!ownProperty.call(body, k)) continue;
      const x = body[k];
      if (isWireScalar(x)) continue;
      if (x === undefined) {
        delete body[k];
        continue;
      }
      try {
        body[k] = this.#value(x, inner);
      } catch (err) {
        throw addStep(err, k, container, 'encode');
      }
    }
    return body;
  }

  #special(v: object, proto: object, level: number): unknown {
    const entry = this.#tables.byPrototype.get(proto);
    if (entry !== undefined) return this.#instance(v, entry, level);
    if (v instanceof Uint8Array)
      return this.#binaryBytes ? v : this.#wrap('bytes', this.#tables.bytes.toBase64(v), level);
    if (proto === Date.prototype) {
      const time = (v as Date).getTime();
      if (Number.isNaN(time)) throw unencodable('an invalid Date');
      return this.#wrap('datetime', (v as Date).toISOString(), level);
    }
    if (proto === Set.prototype) {
      const inner = this.#deeper(this.#deeper(level, v), v);
      const items: unknown[] = [];
      for (const x of v as Set<unknown>) {
        try {
          items.push(this.#value(x, inner));
        } catch (err) {
          throw addStep(err, items.length, v, 'encode');
        }
      }
      return { _t: 'set', _v: items };
    }
    if (proto === Map.prototype) {
      const pairLevel = this.#deeper(this.#deeper(this.#deeper(level, v), v), v);
      const items: unknown[] = [];
      for (const pair of v as Map<unknown, unknown>) {
        let side = 0;
        try {
          const key = this.#value(pair[0], pairLevel);
          side = 1;
          items.push([key, this.#value(pair[1], pairLevel)]);
        } catch (err) {
          throw addStep(addStep(err, side, undefined, 'encode'), items.length, v, 'encode');
        }
      }
      return { _t: 'map', _v: items };
    }
    throw unencodable(describe(v), this.#unregisteredHint(proto));
  }

  #instance(v: object, entry: ClassEntry, level: number): object {
    const inner = this.#deeper(level, v);
    if (entry.toJSON === undefined) {
      const source = v as Record<string, unknown>;
      let fields: Record<string, unknown>;
      if (entry.fields === undefined) {
        fields = { ...source };
      } else {
        fields = {};
        for (const k of entry.fields) setOwn(fields, k, source[k]);
      }
      return { _t: entry.tag, _v: this.#body(fields, inner, v) };
    }
    let data: unknown;
    try {
      data = entry.toJSON(v);
    } catch (err) {
      const reason = reasonOf(err);
      throw unencodable(`a ${quote(entry.tag)} value (its toJSON hook threw: ${reason})`, '', v, err);
    }
    return { _t: entry.tag, _v: this.#value(data, inner) };
  }

  #wrap(tag: string, body: unknown, level: number): object {
    this.#deeper(level, undefined);
    return { _t: tag, _v: body };
  }

  /** The level inside a new container at `level`; throws when that passes maxDepth. */
  #deeper(level: number, v: unknown): number {
    if (level >= this.#tables.maxDepth) throw new WalkFailure('GAW_ERR_DEPTH_EXCEEDED', () => '', v);
    return level + 1;
  }

  #unregisteredHint(proto: object): string {
    for (let p: object | null = getPrototypeOf(proto); p !== null && p !== objectPrototype; p = getPrototypeOf(p)) {
      const parent = this.#tables.byPrototype.get(p);
      if (parent !== undefined) {
        return `: its class is not registered, only its parent class (tag ${quote(parent.tag)}); register the subclass too`;
      }
    }
    return ': its class is not registered (use @serializable(tag) or register(Class, { tag }))';
  }
}
