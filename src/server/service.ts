// How a class becomes a service: the @entrypoint and @service decorators, the plain-JavaScript
// static form (serviceName / entrypoints / shared), and describeService, which reads all of them
// once at registration into a map of exposed methods. Knows nothing of dispatch or the wire.
import { UsageError } from '../errors.js';
import { hasSubscriptions } from '../events/index.js';
import { isPlainObject, quote } from '../jsonrpc/index.js';
import { parseExplicitNames, readParameterNames } from './params.js';
import type { ParameterList } from './params.js';

/** Options of `@entrypoint({ ... })`. */
export interface EntrypointOptions {
  /** The method's parameter names when its source can't tell (destructured, minified): 'a', 'b?' (optional), '...rest'. */
  params?: readonly string[];
}

/** Options of `@service(name, { ... })`. */
export interface ServiceOptions {
  /** One instance, constructed at add(), serves every call (default: a new instance per call). */
  shared?: boolean;
}

/** One exposed method as the dispatcher binds it. */
export interface MethodDescription extends ParameterList {
  readonly name: string;
  /** The function found on the prototype at registration; this is what gets called. */
  readonly fn: Function;
  /** True when the names came from @entrypoint({ params }) or the static list, not from the source. */
  readonly hasExplicitNames: boolean;
}

/** A service class as read at registration. */
export interface ServiceDescription {
  readonly name: string;
  readonly isShared: boolean;
  readonly methods: ReadonlyMap<string, MethodDescription>;
  readonly cls: Function;
}

type MethodDecorator = (value: Function, context: ClassMethodDecoratorContext) => void;

/** Exposed method functions; the value holds explicit parameter names, or null to read them from the source. */
const exposedFunctions = new WeakMap<Function, readonly string[] | null>();
/** Names and sharing given by @service. */
const decoratedServices = new WeakMap<Function, { name: string; isShared: boolean }>();

const maxServiceNameChars = 128;

/**
 * Marks a method as callable over RPC. Use as `@entrypoint` or `@entrypoint({ params: ['a', 'b'] })`.
 * Put it outermost when other decorators wrap the method: it marks the function it is given.
 */
export function entrypoint(value: Function, context: ClassMethodDecoratorContext): void;
export function entrypoint(options?: EntrypointOptions): MethodDecorator;
export function entrypoint(
  first?: Function | EntrypointOptions,
  context?: ClassMethodDecoratorContext,
): MethodDecorator | undefined {
  if (typeof first === 'function' || context !== undefined) {
    // Used bare as a decorator (a field decorator gets `undefined` as its value: refused inside).
    markEntrypoint(first as Function, context, null);
    return;
  }
  if (first !== undefined && !isPlainObject(first)) {
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      '@entrypoint takes no argument or an options object such as { params: ["a", "b"] }',
    );
  }
  const params = first?.params;
  if (params !== undefined && (!Array.isArray(params) || params.some((p) => typeof p !== 'string'))) {
    throw new UsageError('GAW_ERR_INVALID_OPTION', '@entrypoint({ params }) must be an array of parameter names');
  }
  const names = params === undefined ? null : Object.freeze([...params]);
  return (value: Function, ctx: ClassMethodDecoratorContext) => markEntrypoint(value, ctx, names);
}

function markEntrypoint(
  fn: Function,
  context: ClassMethodDecoratorContext | undefined,
  names: readonly string[] | null,
): void {
  if (context === undefined || typeof context !== 'object' || context.kind !== 'method') {
    const kind = typeof context === 'object' && context !== null ? (context as { kind?: unknown }).kind : undefined;
    throw new UsageError(
      'GAW_ERR_NOT_A_SERVICE',
      `@entrypoint applies to methods only${typeof kind === 'string' ? `, not to a ${kind}` : ''}`,
    );
  }
  const where = typeof context.name === 'string' ? quote(context.name) : 'a symbol-named method';
  if (context.private)
    throw new UsageError('GAW_ERR_NOT_A_SERVICE', `@entrypoint cannot expose the private method ${where}`);
  if (context.static)
    throw new UsageError('GAW_ERR_NOT_A_SERVICE', `@entrypoint cannot expose the static method ${where}`);
  if (typeof context.name !== 'string')
    throw new UsageError('GAW_ERR_NOT_A_SERVICE', '@entrypoint cannot expose a symbol-named method');
  if (names !== null) {
    try {
      parseExplicitNames(names, fn);
    } catch (err) {
      throw new UsageError('GAW_ERR_INVALID_OPTION', `@entrypoint on ${where}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  exposedFunctions.set(fn, names);
}

/** Class decorator: `@service('math_service')` or `@service('math_service', { shared: true })`. */
export function service(
  name: string,
  options?: ServiceOptions,
): (value: Function, context: ClassDecoratorContext) => void {
  const problem = serviceNameProblem(name);
  if (problem !== undefined) throw new UsageError('GAW_ERR_INVALID_OPTION', `@service: ${problem}`);
  if (
    options !== undefined &&
    (!isPlainObject(options) || (options.shared !== undefined && typeof options.shared !== 'boolean'))
  ) {
    throw new UsageError('GAW_ERR_INVALID_OPTION', '@service options must be an object such as { shared: true }');
  }
  const info = { name, isShared: options?.shared === true };
  return (value: Function, context: ClassDecoratorContext) => {
    if (context?.kind !== 'class') throw new UsageError('GAW_ERR_NOT_A_SERVICE', '@service applies to classes only');
    decoratedServices.set(value, info);
  };
}

function serviceNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return 'the service name must be a non-empty string';
  if (name.length > maxServiceNameChars) return `the service name is longer than ${maxServiceNameChars} characters`;
  if (name.includes('.')) return `the service name ${quote(name)} contains a dot (method names are "service.method")`;
  if (/[\s\p{Cc}]/u.test(name)) return `the service name ${quote(name)} contains whitespace or control characters`;
  if (name === 'rpc') return 'the service name "rpc" is reserved for the built-in rpc.* methods';
  return undefined;
}

function notAService(cls: unknown, reason: string): UsageError {
  const label =
    typeof cls === 'function' && typeof cls.name === 'string' && cls.name !== ''
      ? `class ${quote(cls.name)}`
      : 'the value';
  return new UsageError('GAW_ERR_NOT_A_SERVICE', `${label} is not a usable service: ${reason}`);
}

function isClassLike(value: unknown): value is Function & { prototype: object } {
  return typeof value === 'function' && typeof value.prototype === 'object' && value.prototype !== null;
}

/** Every string-keyed method on the prototype chain below Object.prototype; the most derived one wins. */
function collectMethods(cls: Function & { prototype: object }): Map<string, Function> {
  const found = new Map<string, Function>();
  const seen = new Set<string>();
  for (
    let proto: object | null = cls.prototype;
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor' || seen.has(key)) continue;
      seen.add(key);
      const descriptor = Object.getOwnPropertyDescriptor(proto, key);
      if (descriptor !== undefined && typeof descriptor.value === 'function') found.set(key, descriptor.value);
    }
  }
  return found;
}

/** The static `entrypoints` list as name -> explicit names (or null to read them from the source). */
function readStaticEntrypoints(cls: Function): Map<string, readonly string[] | null> | string {
  const list: unknown = (cls as { entrypoints?: unknown }).entrypoints;
  const result = new Map<string, readonly string[] | null>();
  if (list === undefined) return result;
  if (Array.isArray(list)) {
    for (const name of list) {
      if (typeof name !== 'string') return 'static entrypoints must list method names (strings)';
      result.set(name, null);
    }
    return result;
  }
  if (!isPlainObject(list))
    return 'static entrypoints must be an array of method names or an object { method: [param names] | true }';
  for (const [name, names] of Object.entries(list)) {
    if (names === true) result.set(name, null);
    else if (Array.isArray(names)) result.set(name, names as string[]);
    else return `static entrypoints.${name} must be an array of parameter names or true`;
  }
  return result;
}

/** Reads a service class once: its name, sharing, and exposed methods with their parameters. */
export function describeService(cls: Function): ServiceDescription {
  if (!isClassLike(cls)) throw notAService(cls, 'it is not a class');
  const decorated = decoratedServices.get(cls);
  const name: unknown = decorated?.name ?? (cls as { serviceName?: unknown }).serviceName;
  if (name === undefined)
    throw notAService(cls, 'it has no service name: add `static serviceName = "..."` or the @service("...") decorator');
  const nameProblem = serviceNameProblem(name);
  if (nameProblem !== undefined) throw notAService(cls, nameProblem);
  const shared: unknown = decorated?.isShared ?? (cls as { shared?: unknown }).shared;
  if (shared !== undefined && typeof shared !== 'boolean')
    throw notAService(cls, 'static shared must be true or false');

  const candidates = collectMethods(cls);
  const wanted = new Map<string, readonly string[] | null>();
  for (const [method, fn] of candidates) {
    const names = exposedFunctions.get(fn);
    if (names !== undefined) wanted.set(method, names);
  }
  const listed = readStaticEntrypoints(cls);
  if (typeof listed === 'string') throw notAService(cls, listed);
  for (const [method, names] of listed) {
    if (!candidates.has(method)) {
      throw notAService(
        cls,
        `static entrypoints lists ${quote(method)}, which is not a method of the class (Object's own methods and constructor never are)`,
      );
    }
    if (names !== null || !wanted.has(method)) wanted.set(method, names);
  }
  if (wanted.size === 0 && !hasSubscriptions(cls)) {
    throw notAService(
      cls,
      'it exposes no methods: mark them with @entrypoint or list them in `static entrypoints = [...]` (or subscribe one to an event with @on)',
    );
  }

  const methods = new Map<string, MethodDescription>();
  for (const [method, names] of wanted) {
    const fn = candidates.get(method)!;
    let list: ParameterList;
    if (names !== null) {
      try {
        list = parseExplicitNames(names, fn);
      } catch (err) {
        throw notAService(cls, `the parameter names given for ${quote(method)} are wrong: ${(err as Error).message}`);
      }
    } else {
      const read = readParameterNames(fn);
      if (typeof read === 'string') {
        throw notAService(
          cls,
          `the parameters of ${quote(method)} cannot be read (${read}); name them with @entrypoint({ params: [...] }) or static entrypoints = { ${method}: [...] }`,
        );
      }
      list = read;
    }
    methods.set(method, Object.freeze({ name: method, fn, hasExplicitNames: names !== null, ...list }));
  }
  return Object.freeze({ name: name as string, isShared: shared === true, methods, cls });
}

/** True for a class with a service name and at least one method marked or listed as exposed (for the CLI). */
export function isServiceClass(value: unknown): boolean {
  if (!isClassLike(value)) return false;
  const name = decoratedServices.get(value)?.name ?? (value as { serviceName?: unknown }).serviceName;
  if (typeof name !== 'string' || name === '') return false;
  if ((value as { entrypoints?: unknown }).entrypoints !== undefined) return true;
  if ((value as { events?: unknown }).events !== undefined) return true;
  for (const fn of collectMethods(value).values()) if (exposedFunctions.has(fn)) return true;
  return hasSubscriptions(value);
}
