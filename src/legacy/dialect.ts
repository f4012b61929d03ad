// The Python dialect of tagged data. Python Gaw writes big integers and NaN/Infinity as bare JSON
// literals, where our registry uses the `bigint` and `number` tags, and has no `undefined` tag.
// These two walks translate between the forms; every other tag passes through untouched.
import { nonFiniteText, parseNonFinite, setOwn } from '../serializable/index.js';

/** Deeper than this is refused; the registry and the parser cap depth well below it. */
const MAX_WALK_DEPTH = 1000;

function tooDeep(): never {
  throw new RangeError(`tagged data nests deeper than ${MAX_WALK_DEPTH} levels`);
}

function isTag(value: Record<string, unknown>, tag: string): boolean {
  const keys = Object.keys(value);
  return value._t === tag && keys.length <= 2 && keys.every((key) => key === '_t' || key === '_v');
}

/**
 * Registry-encoded data to what Python Gaw writes: `{_t: 'bigint'}` becomes a bigint (written as a bare
 * integer), `{_t: 'number'}` a non-finite number (written NaN/Infinity), `{_t: 'undefined'}` null.
 * Copies only what changes; the input may share objects with the caller's values and is not modified.
 */
export function toPythonData(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_WALK_DEPTH) tooDeep();
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const converted = toPythonData(value[i], depth + 1);
      if (out === undefined && converted !== value[i]) out = value.slice(0, i);
      out?.push(converted);
    }
    return out ?? value;
  }
  const record = value as Record<string, unknown>;
  if (typeof record._v === 'string' && isTag(record, 'bigint') && /^-?[0-9]+$/.test(record._v))
    return BigInt(record._v);
  if (isTag(record, 'number') && typeof record._v === 'string') {
    const number = parseNonFinite(record._v);
    if (number !== undefined) return number;
  }
  if (isTag(record, 'undefined') && !('_v' in record)) return null;
  const keys = Object.keys(record);
  let out: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const converted = toPythonData(record[key], depth + 1);
    if (out === undefined && converted !== record[key]) {
      out = {};
      for (let j = 0; j < i; j++) setOwn(out, keys[j]!, record[keys[j]!]);
    }
    if (out !== undefined) setOwn(out, key, converted);
  }
  return out ?? value;
}

/**
 * Parsed Python Gaw data to what our registry decodes: a bigint becomes `{_t: 'bigint', _v: digits}`,
 * NaN/Infinity `{_t: 'number', _v: text}`. Modifies `value` in place (it is freshly parsed) and returns it.
 */
export function fromPythonData(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return { _t: 'bigint', _v: value.toString() };
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    return { _t: 'number', _v: nonFiniteText(value) };
  }
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_WALK_DEPTH) tooDeep();
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = fromPythonData(value[i], depth + 1);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) setOwn(record, key, fromPythonData(record[key], depth + 1));
  return value;
}
