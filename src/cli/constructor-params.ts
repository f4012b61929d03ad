// Reads a service class's constructor parameter names from its source text, so `--kwargs` can
// bind a JSON object to them by name (never by eval), and builds the constructor's argument list.
// src/server/params.ts reads methods, whose source starts at the parameter list; a class's source
// starts at `class`, so this file first finds the constructor inside the class body.
import { parseParameterPieces } from '../server/index.js';
import { usage } from './options.js';

/** A constructor's parameters: names in order, which have defaults, and the rest parameter. */
export interface ConstructorParams {
  readonly params: readonly string[];
  readonly isOptional: readonly boolean[];
  readonly restParam?: string;
}

const identifierChar = /[\p{ID_Continue}$\u200c\u200d]/u;
const maxInheritance = 64;

/** The index just after the string, template literal or comment starting at `i` (else `i + 1`). */
function skipToken(source: string, i: number): number {
  const c = source[i]!;
  if (c === '/' && source[i + 1] === '/') {
    const end = source.indexOf('\n', i);
    return end < 0 ? source.length : end + 1;
  }
  if (c === '/' && source[i + 1] === '*') {
    const end = source.indexOf('*/', i + 2);
    return end < 0 ? source.length : end + 2;
  }
  if (c !== '"' && c !== "'" && c !== '`') return i + 1;
  for (let j = i + 1; j < source.length; j++) {
    const d = source[j]!;
    if (d === '\\') j++;
    else if (d === c) return j + 1;
    else if (c === '`' && d === '$' && source[j + 1] === '{') j = skipBalanced(source, j + 2, '}') - 1;
  }
  return source.length;
}

function isTokenStart(source: string, i: number): boolean {
  const c = source[i];
  return c === '"' || c === "'" || c === '`' || (c === '/' && (source[i + 1] === '/' || source[i + 1] === '*'));
}

function isClosing(c: string | undefined): boolean {
  return c === ')' || c === ']' || c === '}';
}

/**
 * The indices of the code at the top level of the group whose bracket opens just before `start`
 * (strings, comments and nested groups skipped; an opening bracket is yielded before its group is
 * entered), ending with the bracket that closes the group. The one scanner every search here uses.
 */
function* topLevel(source: string, start: number): Generator<number> {
  let depth = 0;
  for (let i = start; i < source.length; i++) {
    if (isTokenStart(source, i)) {
      i = skipToken(source, i) - 1;
      continue;
    }
    const c = source[i]!;
    if (depth === 0) yield i;
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (isClosing(c)) {
      if (depth === 0) return;
      depth--;
    }
  }
}

/** The index just after the bracket that closes a group opened just before `i`. */
function skipBalanced(source: string, i: number, close: string): number {
  for (const j of topLevel(source, i)) if (isClosing(source[j])) return source[j] === close ? j + 1 : source.length;
  return source.length;
}

/** The previous word before `i`, skipping whitespace (comments before a member are rare and ignored). */
function previousWord(source: string, i: number): string {
  let j = i - 1;
  while (j >= 0 && /\s/.test(source[j]!)) j--;
  const end = j + 1;
  while (j >= 0 && identifierChar.test(source[j]!)) j--;
  return source.slice(j + 1, end);
}

/** The index of the `(` of the class's own constructor, -1 when it declares none, or undefined when unreadable. */
function findConstructor(source: string): number | undefined {
  let body: number | undefined; // the class body opens at the first `{` outside brackets
  for (const i of topLevel(source, 0)) {
    if (source[i] === '{') {
      body = i;
      break;
    }
  }
  if (body === undefined) return undefined;
  for (const j of topLevel(source, body + 1)) {
    if (isClosing(source[j])) return -1; // the end of the class body
    if (
      source.startsWith('constructor', j) &&
      !identifierChar.test(source[j - 1] ?? ' ') &&
      source[j - 1] !== '.' &&
      source[j - 1] !== '#' &&
      previousWord(source, j) !== 'static'
    ) {
      let k = j + 'constructor'.length;
      while (k < source.length && (/\s/.test(source[k]!) || isTokenStart(source, k)))
        k = /\s/.test(source[k]!) ? k + 1 : skipToken(source, k);
      if (source[k] === '(') return k;
    }
  }
  return undefined;
}

/** The top-level pieces of the parameter list whose `(` is at `open`, or undefined if unclosed. */
function splitParams(source: string, open: number): string[] | undefined {
  const pieces: string[] = [];
  let start = open + 1;
  for (const j of topLevel(source, open + 1)) {
    const c = source[j]!;
    if (c !== ',' && !isClosing(c)) continue;
    if (c !== ',' && c !== ')') return undefined;
    pieces.push(
      source
        .slice(start, j)
        .replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, ' ')
        .trim(),
    );
    if (c === ')') return pieces;
    start = j + 1;
  }
  return undefined;
}

/**
 * The parameters of `cls`'s constructor (inherited when the class declares none), or a string
 * saying why they cannot be read. The count is checked against the declaring class's `length`.
 */
export function readConstructorParams(cls: Function): ConstructorParams | string {
  let current: Function = cls;
  for (let hops = 0; hops < maxInheritance; hops++) {
    const source = Function.prototype.toString.call(current);
    if (!/^class\b/.test(source)) {
      if (/\{\s*\[native code\]\s*\}\s*$/.test(source))
        return 'it is a native or bound class, so its source does not show parameter names';
      const open = source.indexOf('(');
      const pieces = open < 0 ? undefined : splitParams(source, open);
      return pieces === undefined
        ? 'its parameter list could not be found'
        : checkLength(current, parseParameterPieces(pieces));
    }
    const open = findConstructor(source);
    if (open === undefined) return 'its constructor could not be found in its source';
    if (open >= 0) {
      const pieces = splitParams(source, open);
      return pieces === undefined
        ? 'its constructor parameter list could not be read'
        : checkLength(current, parseParameterPieces(pieces));
    }
    const parent: unknown = Object.getPrototypeOf(current);
    if (typeof parent !== 'function' || parent === Function.prototype)
      return checkLength(current, { params: [], isOptional: [] });
    current = parent;
  }
  return 'its class hierarchy is too deep';
}

function checkLength(cls: Function, list: ConstructorParams | string): ConstructorParams | string {
  if (typeof list === 'string') return list;
  let leading = list.isOptional.indexOf(true);
  if (leading < 0) leading = list.params.length;
  if (leading !== cls.length) return 'the parameter names read from its source do not match its length';
  if (new Set(list.params).size !== list.params.length) return 'it declares a parameter name twice';
  return list;
}

/** Describes a parameter list for messages: `(hello, greeting?, ...rest)`. */
export function formatParams(list: ConstructorParams): string {
  const names = list.params.map((name, i) => (list.isOptional[i] ? `${name}?` : name));
  if (list.restParam !== undefined) names.push(`...${list.restParam}`);
  return `(${names.join(', ')})`;
}

/**
 * Builds constructor arguments from named values: each name goes to its position, the rest
 * parameter's value (an array) is spread at the end, and unset positions are undefined so their
 * defaults apply. Throws a usage error naming an unknown parameter.
 */
export function bindKwargs(
  label: string,
  list: ConstructorParams,
  kwargs: Readonly<Record<string, unknown>>,
): unknown[] {
  const args: unknown[] = [];
  let rest: unknown[] = [];
  for (const [key, value] of Object.entries(kwargs)) {
    const index = list.params.indexOf(key);
    if (index >= 0) {
      while (args.length < index) args.push(undefined);
      args[index] = value;
    } else if (key === list.restParam) {
      if (!Array.isArray(value))
        throw usage(`--kwargs: ${key} is the rest parameter of ${label}'s constructor and needs a JSON array`);
      rest = value;
    } else {
      throw usage(
        `--kwargs names ${JSON.stringify(key)}, which ${label}'s constructor ${formatParams(list)} does not take`,
      );
    }
  }
  if (rest.length > 0) {
    while (args.length < list.params.length) args.push(undefined);
    args.push(...rest);
  }
  return args;
}
