// Small pure helpers the serializable walkers share for error messages: rendering a path such as
// `result.items[3]`, describing a value's type, and quoting attacker-chosen tags and keys safely.
// It owns no state and throws nothing; the walkers decide which error to raise.

/** One step of a path: a property name or an array / set / map position. */
export type PathKey = string | number;

const identifier = /^[A-Za-z_$][\w$]*$/;
const maxShownChars = 64;

/** Makes untrusted text safe to show: at most `maxChars` characters, only printable ASCII, the rest \u-escaped. */
export function sanitize(text: string, maxChars = maxShownChars): string {
  const shown = text.length > maxChars ? text.slice(0, maxChars) : text;
  const escaped = shown.replace(/[^\x20-\x7e]|["\\]/g, (ch) =>
    ch === '"' || ch === '\\' ? `\\${ch}` : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return text.length > maxChars ? `${escaped}...(${text.length} chars)` : escaped;
}

/** `sanitize` in double quotes, for tags and keys in messages. */
export function quote(text: string): string {
  return `"${sanitize(text)}"`;
}

/** Renders `root` followed by the first `length` keys, e.g. `result.items[3]`; `(root)` when empty. */
export function formatPath(root: string, keys: readonly PathKey[], length: number): string {
  let out = root;
  for (let i = 0; i < length; i++) {
    const key = keys[i];
    if (typeof key === 'number') out += `[${key}]`;
    else if (identifier.test(key) && key.length <= maxShownChars) out += out === '' ? key : `.${key}`;
    else out += `[${quote(key)}]`;
  }
  return out === '' ? '(root)' : out;
}

/** A short, safe description of a value's type for messages: `a function`, `a Symbol`, `an instance of Foo`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    case 'bigint':
      return 'a bigint';
    case 'undefined':
      return 'undefined';
    case 'object':
      break;
    default:
      return `a ${typeof value}`;
  }
  if (Array.isArray(value)) return 'an array';
  let name = '';
  try {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === null || proto === Object.prototype) return 'a plain object';
    const ctor = (proto as { constructor?: unknown }).constructor;
    if (typeof ctor === 'function' && typeof ctor.name === 'string') name = ctor.name;
  } catch {
    // A hostile proxy; fall through to the generic description.
  }
  return name === '' ? 'an object of an unnamed class' : `an instance of ${sanitize(name)}`;
}
