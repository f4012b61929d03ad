// JSON as Python Gaw 0.7 writes it, read back: integers beyond 2^53 stay exact as bigint (a Python
// id is a 128-bit integer), which JSON.parse cannot; NaN/Infinity are accepted as Python writes
// them; nesting depth and integer length are bounded. Tagged values ({_t,_v}) are registry business;
// the writer is in json-writer.ts.
import { SerializationError } from '../errors.js';

export interface PythonJsonParseOptions {
  /** Deepest array/object nesting accepted (default 72: 64 for values plus the envelope). */
  maxDepth?: number;
  /** Longest integer literal accepted, in digits (default 4300, Python's own int-parsing limit). */
  maxIntegerDigits?: number;
}

const parseDefaults = Object.freeze({ maxDepth: 72, maxIntegerDigits: 4300 });

const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

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
