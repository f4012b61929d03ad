// Reads a method's declared parameter names from its source text, once, when a service is
// registered, and parses explicit name lists ('a', 'b?' optional, '...rest'). Knows nothing of
// services or dispatch; the binding of call params to these names is in target.ts.

/** A method's parameters as gaw binds them. */
export interface ParameterList {
  /** Declared names in order, the rest parameter excluded. */
  readonly params: readonly string[];
  /** For each entry of `params`: true when the caller may leave it out (it has a default). */
  readonly isOptional: readonly boolean[];
  /** The rest parameter's name, when the method has one: it takes any further positional values. */
  readonly restParam?: string;
}

const identifier = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u;
const bareArrow = /^(?:async\s+)?([\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*)\s*=>/u;
const maxExplicitNameChars = 128;

/**
 * The parameter list of `fn` read from Function.prototype.toString, or a string saying why it
 * cannot be read (destructured or unusual parameters, native or bound functions).
 */
export function readParameterNames(fn: Function): ParameterList | string {
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source))
    return 'it is a native or bound function, so its source does not show parameter names';
  const arrow = bareArrow.exec(source);
  if (arrow !== null) return checkLength(fn, { params: [arrow[1]!], isOptional: [false] });
  const open = findParamListStart(source);
  if (open < 0) return 'its parameter list could not be found in its source';
  const pieces = splitParams(source, open + 1);
  if (pieces === undefined) return 'its parameter list could not be read from its source';
  const list = parseParameterPieces(pieces);
  return typeof list === 'string' ? list : checkLength(fn, list);
}

/**
 * Reads the pieces of a parameter list (the source text between its commas) into names, or a
 * string saying why they cannot be used: destructured or unreadable parameters.
 */
export function parseParameterPieces(pieces: readonly string[]): ParameterList | string {
  const params: string[] = [];
  const isOptional: boolean[] = [];
  let restParam: string | undefined;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!.trim();
    if (piece === '' && i === pieces.length - 1) break; // `()` or a trailing comma
    if (restParam !== undefined) return 'a parameter follows its rest parameter';
    if (piece.startsWith('...')) {
      const name = piece.slice(3).trim();
      if (!identifier.test(name)) return `its rest parameter (parameter ${i + 1}) is destructured`;
      restParam = name;
      continue;
    }
    if (piece.startsWith('{') || piece.startsWith('[')) return `parameter ${i + 1} is destructured`;
    const eq = piece.indexOf('=');
    const name = (eq < 0 ? piece : piece.slice(0, eq)).trim();
    if (!identifier.test(name)) return `parameter ${i + 1} could not be read from its source`;
    params.push(name);
    isOptional.push(eq >= 0);
  }
  return restParam === undefined ? { params, isOptional } : { params, isOptional, restParam };
}

/** fn.length counts the parameters before the first default or rest one: a cheap check of the parse. */
function checkLength(fn: Function, list: ParameterList): ParameterList | string {
  let leading = list.isOptional.indexOf(true);
  if (leading < 0) leading = list.params.length;
  if (leading !== fn.length) return 'the parameter names read from its source do not match its length';
  const seen = new Set(list.params);
  if (seen.size !== list.params.length || (list.restParam !== undefined && seen.has(list.restParam))) {
    return 'it declares a parameter name twice';
  }
  return list;
}

/**
 * Parses an explicit list of names: 'a' (required), 'b?' (optional), '...rest' (last only).
 * Throws a TypeError naming the problem; `fn` is checked to take no more required params than named.
 */
export function parseExplicitNames(names: unknown, fn: Function): ParameterList {
  if (!Array.isArray(names)) throw new TypeError('explicit parameter names must be an array of strings');
  const params: string[] = [];
  const isOptional: boolean[] = [];
  let restParam: string | undefined;
  const seen = new Set<string>();
  for (const raw of names) {
    if (typeof raw !== 'string') throw new TypeError('explicit parameter names must be strings');
    if (restParam !== undefined) throw new TypeError(`${JSON.stringify(raw)} follows the rest parameter`);
    let name = raw;
    let isRest = false;
    let isOpt = false;
    if (name.startsWith('...')) {
      isRest = true;
      name = name.slice(3);
    } else if (name.endsWith('?')) {
      isOpt = true;
      name = name.slice(0, -1);
    }
    if (name === '' || name.length > maxExplicitNameChars || /[\s?]/.test(name) || name.startsWith('...')) {
      throw new TypeError(`${JSON.stringify(raw.slice(0, maxExplicitNameChars))} is not a valid parameter name`);
    }
    if (seen.has(name)) throw new TypeError(`parameter name ${JSON.stringify(name)} appears twice`);
    seen.add(name);
    if (isRest) restParam = name;
    else {
      params.push(name);
      isOptional.push(isOpt);
    }
  }
  if (restParam === undefined && fn.length > params.length) {
    throw new TypeError(`${params.length} names given but the method declares ${fn.length} parameters`);
  }
  return restParam === undefined ? { params, isOptional } : { params, isOptional, restParam };
}

/** Index of the `(` that opens the parameter list: the first one outside brackets, strings and comments. */
function findParamListStart(source: string): number {
  let bracketDepth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '(' && bracketDepth === 0) return i;
    if (c === '[') bracketDepth++;
    else if (c === ']') bracketDepth--;
    else if (c === '"' || c === "'" || c === '`' || (c === '/' && (source[i + 1] === '/' || source[i + 1] === '*'))) {
      i = skipToken(source, i) - 1;
    }
  }
  return -1;
}

/** The top-level, comment-free pieces of a parameter list starting after its `(`, or undefined if unclosed. */
function splitParams(source: string, start: number): string[] | undefined {
  const pieces: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = start; i < source.length; i++) {
    const c = source[i]!;
    if (c === '/' && (source[i + 1] === '/' || source[i + 1] === '*')) {
      i = skipToken(source, i) - 1;
      current += ' ';
    } else if (c === '"' || c === "'" || c === '`') {
      const end = skipToken(source, i);
      current += source.slice(i, end);
      i = end - 1;
    } else if (c === '(' || c === '[' || c === '{') {
      depth++;
      current += c;
    } else if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) {
        if (c !== ')') return undefined;
        pieces.push(current);
        return pieces;
      }
      depth--;
      current += c;
    } else if (c === ',' && depth === 0) {
      pieces.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  return undefined;
}

/** The index just after the string, template literal or comment that starts at `i`. */
function skipToken(source: string, i: number): number {
  const c = source[i]!;
  if (c === '/') {
    if (source[i + 1] === '/') {
      const end = source.indexOf('\n', i);
      return end < 0 ? source.length : end + 1;
    }
    const end = source.indexOf('*/', i + 2);
    return end < 0 ? source.length : end + 2;
  }
  for (let j = i + 1; j < source.length; j++) {
    const d = source[j]!;
    if (d === '\\') j++;
    else if (d === c) return j + 1;
    else if (c === '`' && d === '$' && source[j + 1] === '{') j = skipCode(source, j + 2) - 1;
  }
  return source.length;
}

/** The index just after the `}` that closes a template substitution starting at `i`. */
function skipCode(source: string, i: number): number {
  let depth = 0;
  for (let j = i; j < source.length; j++) {
    const c = source[j]!;
    if (c === '"' || c === "'" || c === '`' || (c === '/' && (source[j + 1] === '/' || source[j + 1] === '*'))) {
      j = skipToken(source, j) - 1;
    } else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) return j + 1;
      depth--;
    }
  }
  return source.length;
}
