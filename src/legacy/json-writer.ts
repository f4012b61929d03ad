// JSON as Python Gaw 0.7 writes it: matches Python's json.dumps defaults byte for byte (", " and
// ": " separators, ASCII-only output with lowercase \u escapes, NaN/Infinity), with a bounded nesting
// depth. Tagged values ({_t,_v}) are registry business; the parser is in json-parser.ts.
import { SerializationError } from '../errors.js';

export interface PythonJsonWriteOptions {
  /** Deepest array/object nesting written (default 100). */
  maxDepth?: number;
}

const WRITE_MAX_DEPTH = 100;

const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/**
 * Writes plain data (null, booleans, numbers, bigints, strings, arrays, plain objects) exactly as
 * Python's json.dumps would. An object holding just `_t` and `_v` is written `_v` first, as Python
 * Gaw's serializer orders it. Anything else throws SerializationError naming the path.
 */
export function stringifyPython(value: unknown, options: PythonJsonWriteOptions = {}): string {
  const out: string[] = [];
  const path: (string | number)[] = [];
  const ancestors = new Set<object>();
  const maxDepth = options.maxDepth ?? WRITE_MAX_DEPTH;

  const fail = (code: 'GAW_ERR_UNENCODABLE' | 'GAW_ERR_DEPTH_EXCEEDED', what: string): never => {
    const where = formatPath(path);
    throw new SerializationError(code, `${what} at ${where === '' ? 'the root' : where}`, { path: where });
  };

  const write = (v: unknown): void => {
    switch (typeof v) {
      case 'string':
        out.push(quote(v));
        return;
      case 'number':
        out.push(formatNumber(v));
        return;
      case 'bigint':
        out.push(v.toString());
        return;
      case 'boolean':
        out.push(v ? 'true' : 'false');
        return;
      case 'object':
        break;
      default:
        return fail('GAW_ERR_UNENCODABLE', `cannot write a ${typeof v} as JSON`);
    }
    if (v === null) {
      out.push('null');
      return;
    }
    if (ancestors.has(v)) fail('GAW_ERR_UNENCODABLE', 'a cycle');
    if (ancestors.size >= maxDepth) fail('GAW_ERR_DEPTH_EXCEEDED', `nesting deeper than ${maxDepth} levels`);
    ancestors.add(v);
    if (Array.isArray(v)) {
      out.push('[');
      for (let i = 0; i < v.length; i++) {
        if (i > 0) out.push(', ');
        path.push(i);
        write(v[i] === undefined ? null : v[i]);
        path.pop();
      }
      out.push(']');
    } else {
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        fail('GAW_ERR_UNENCODABLE', `cannot write a ${describe(v)} as JSON (encode it with the registry first)`);
      }
      const record = v as Record<string, unknown>;
      let keys = Object.keys(record).filter((key) => record[key] !== undefined);
      if (keys.length === 2 && keys.includes('_t') && keys.includes('_v')) keys = ['_v', '_t'];
      out.push('{');
      keys.forEach((key, i) => {
        if (i > 0) out.push(', ');
        out.push(quote(key), ': ');
        path.push(key);
        write(record[key]);
        path.pop();
      });
      out.push('}');
    }
    ancestors.delete(v);
  };

  write(value);
  return out.join('');
}

/** A JSON string literal as Python writes it with ensure_ascii: only printable ASCII unescaped. */
function quote(text: string): string {
  if (PLAIN_STRING.test(text)) return `"${text}"`;
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const code = text.charCodeAt(i);
    const escaped = ESCAPES[ch];
    if (escaped !== undefined) out += escaped;
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (Object.is(n, -0)) return '-0.0';
  return String(n);
}

function describe(v: object): string {
  const name = (v.constructor as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name !== '' ? `${name} instance` : 'non-plain object';
}

function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}
