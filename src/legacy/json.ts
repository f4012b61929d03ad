// JSON as Python Gaw 0.7 writes and reads it. The writer matches Python's json.dumps defaults byte
// for byte (", " and ": " separators, ASCII-only output with lowercase \u escapes, NaN/Infinity);
// the parser keeps integers beyond 2^53 exact as bigint (a Python id is a 128-bit integer), which
// JSON.parse cannot. Both bound their nesting depth. Tagged values ({_t,_v}) are registry business.
import { SerializationError } from '../errors.js';

export interface PythonJsonParseOptions {
  /** Deepest array/object nesting accepted (default 72: 64 for values plus the envelope). */
  maxDepth?: number;
  /** Longest integer literal accepted, in digits (default 4300, Python's own int-parsing limit). */
  maxIntegerDigits?: number;
}

export interface PythonJsonWriteOptions {
  /** Deepest array/object nesting written (default 100). */
  maxDepth?: number;
}

const parseDefaults = Object.freeze({ maxDepth: 72, maxIntegerDigits: 4300 });
const WRITE_MAX_DEPTH = 100;

const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
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

/** Parses JSON text; integers outside the safe range become bigint. Throws SerializationError. */
export function parsePythonJson(text: string, options: PythonJsonParseOptions = {}): unknown {
  const parser = new Parser(
    text,
    options.maxDepth ?? parseDefaults.maxDepth,
    options.maxIntegerDigits ?? parseDefaults.maxIntegerDigits,
  );
  return parser.parseDocument();
}

class Parser {
  #pos = 0;
  readonly #text: string;
  readonly #maxDepth: number;
  readonly #maxIntegerDigits: number;

  constructor(text: string, maxDepth: number, maxIntegerDigits: number) {
    this.#text = text;
    this.#maxDepth = maxDepth;
    this.#maxIntegerDigits = maxIntegerDigits;
  }

  parseDocument(): unknown {
    const value = this.#value(0);
    this.#skipSpace();
    if (this.#pos !== this.#text.length) this.#fail('unexpected text after the value');
    return value;
  }

  #fail(what: string): never {
    throw new SerializationError('GAW_ERR_DECODE', `invalid JSON at offset ${this.#pos}: ${what}`);
  }

  #skipSpace(): void {
    const text = this.#text;
    let pos = this.#pos;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
    this.#pos = pos;
  }

  #value(depth: number): unknown {
    this.#skipSpace();
    const c = this.#text[this.#pos];
    if (c === '{' || c === '[') {
      if (depth >= this.#maxDepth) {
        throw new SerializationError('GAW_ERR_DEPTH_EXCEEDED', `JSON nests deeper than ${this.#maxDepth} levels`);
      }
      return c === '{' ? this.#object(depth + 1) : this.#array(depth + 1);
    }
    if (c === '"') return this.#string();
    if (c === undefined) this.#fail('unexpected end of input');
    for (const [word, value] of LITERALS) {
      if (this.#text.startsWith(word, this.#pos)) {
        this.#pos += word.length;
        return value;
      }
    }
    return this.#number();
  }

  /** Steps past an opening bracket; when `close` follows (an empty container), past it too and true. */
  #isEmpty(close: '}' | ']'): boolean {
    this.#pos++;
    this.#skipSpace();
    if (this.#text[this.#pos] !== close) return false;
    this.#pos++;
    return true;
  }

  #object(depth: number): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    if (this.#isEmpty('}')) return result;
    for (;;) {
      this.#skipSpace();
      if (this.#text[this.#pos] !== '"') this.#fail('expected a string key');
      const key = this.#string();
      this.#skipSpace();
      if (this.#text[this.#pos] !== ':') this.#fail("expected ':' after a key");
      this.#pos++;
      const value = this.#value(depth);
      // An own "__proto__" key stays data, as with JSON.parse; it never sets the prototype.
      if (key === '__proto__')
        Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
      else result[key] = value;
      this.#skipSpace();
      const next = this.#text[this.#pos++];
      if (next === '}') return result;
      if (next !== ',') this.#fail("expected ',' or '}' in an object");
    }
  }

  #array(depth: number): unknown[] {
    const result: unknown[] = [];
    if (this.#isEmpty(']')) return result;
    for (;;) {
      result.push(this.#value(depth));
      this.#skipSpace();
      const next = this.#text[this.#pos++];
      if (next === ']') return result;
      if (next !== ',') this.#fail("expected ',' or ']' in an array");
    }
  }

  #string(): string {
    const text = this.#text;
    const start = this.#pos;
    let pos = start + 1;
    let hasEscape = false;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (Number.isNaN(c)) this.#fail('unterminated string');
      if (c === 0x22) break;
      if (c < 0x20) {
        this.#pos = pos;
        this.#fail('control character in a string');
      }
      if (c === 0x5c) {
        hasEscape = true;
        pos += 2;
      } else pos++;
    }
    this.#pos = pos + 1;
    if (!hasEscape) return text.slice(start + 1, pos);
    try {
      return JSON.parse(text.slice(start, pos + 1)) as string;
    } catch {
      this.#pos = start;
      return this.#fail('invalid escape in a string');
    }
  }

  #number(): number | bigint {
    NUMBER.lastIndex = this.#pos;
    const match = NUMBER.exec(this.#text);
    if (match === null) this.#fail('expected a value');
    const token = match[0];
    if (match[1] === undefined && match[2] === undefined) {
      const digits = token.length - (token.startsWith('-') ? 1 : 0);
      if (digits > this.#maxIntegerDigits) this.#fail(`integer longer than ${this.#maxIntegerDigits} digits`);
      this.#pos += token.length;
      const value = Number(token);
      return Number.isSafeInteger(value) ? value : BigInt(token);
    }
    this.#pos += token.length;
    return Number(token);
  }
}

// Longest first, so that "-Infinity" is not read as a number.
const LITERALS: ReadonlyArray<readonly [string, unknown]> = [
  ['-Infinity', -Infinity],
  ['Infinity', Infinity],
  ['NaN', NaN],
  ['true', true],
  ['false', false],
  ['null', null],
];

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
