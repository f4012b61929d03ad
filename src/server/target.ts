// One callable method as the dispatcher sees it: binds positional or named params to the names
// read at registration, revives class-tagged argument values, and calls the function on a per-call
// or shared instance. Knows nothing of messages, replies or logging (dispatch.ts does).
import { quote } from '../jsonrpc/index.js';
import { splitMethod } from '../observe/index.js';
import type { Registry } from '../serializable/index.js';
import type { MethodDescription, ServiceDescription } from './service.js';

/** The most positional params any method takes, rest parameters included (well under V8's argument limit). */
export const maxPositionalParams = 65_535;

/** A service added to a dispatcher. */
export interface HostedService {
  readonly description: ServiceDescription;
  readonly cls: Function;
  readonly constructorArgs: unknown[];
  /** The one instance of a shared service; undefined when each call constructs its own. */
  readonly instance: object | undefined;
}

const positionalPath = Object.freeze({ path: 'params' });

/** What a handler returned is a promise (or any thenable) to wait for. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function needsRevive(values: readonly unknown[]): boolean {
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] === 'object' && values[i] !== null) return true;
  }
  return false;
}

export class Target {
  /** "service.method", or the built-in's name. */
  readonly fullName: string;
  /** The service's and the method's names, split once for interceptors and metrics labels. */
  readonly names: { readonly service: string; readonly method: string };
  readonly #fn: Function;
  /** An async function: it can await, so its call context must follow it through AsyncLocalStorage. */
  readonly isAsync: boolean;
  readonly #hosted: HostedService | undefined;
  readonly #params: readonly string[];
  readonly #hasRest: boolean;
  readonly #index: ReadonlyMap<string, number>;
  readonly #requiredIndexes: readonly number[];
  readonly #lastRequired: number;
  readonly #namedPaths: readonly { path: string }[];

  private constructor(
    fullName: string,
    fn: Function,
    hosted: HostedService | undefined,
    method: Omit<MethodDescription, 'name' | 'fn' | 'hasExplicitNames'>,
  ) {
    this.fullName = fullName;
    this.names = Object.freeze(splitMethod(fullName));
    this.#fn = fn;
    this.isAsync = Object.prototype.toString.call(fn) === '[object AsyncFunction]';
    this.#hosted = hosted;
    this.#params = method.params;
    this.#hasRest = method.restParam !== undefined;
    this.#index = new Map(method.params.map((name, i) => [name, i]));
    const required: number[] = [];
    method.isOptional.forEach((isOptional, i) => {
      if (!isOptional) required.push(i);
    });
    this.#requiredIndexes = required;
    this.#lastRequired = required.length === 0 ? -1 : required[required.length - 1]!;
    this.#namedPaths = method.params.map((name) => Object.freeze({ path: `params.${name}` }));
  }

  static method(hosted: HostedService, method: MethodDescription): Target {
    return new Target(`${hosted.description.name}.${method.name}`, method.fn, hosted, method);
  }

  /** A built-in taking no params, called with the dispatcher as `this`. */
  static builtin(name: string, fn: Function): Target {
    return new Target(name, fn, undefined, { params: [], isOptional: [] });
  }

  /**
   * The argument list for `params` (absent, positional array or named object, already validated as
   * one of those), or a message saying what is wrong. Throws SerializationError when a value does
   * not revive.
   */
  bind(params: unknown, registry: Registry): unknown[] | string {
    if (params === undefined) {
      return this.#lastRequired < 0 ? [] : this.#missing(this.#requiredIndexes[0]!);
    }
    if (Array.isArray(params)) {
      const count = params.length;
      if (count > this.#params.length && !this.#hasRest) {
        return `Invalid params: ${this.fullName} takes at most ${this.#params.length} positional params, got ${count}`;
      }
      if (count > maxPositionalParams) {
        // A rest parameter takes any number, but V8 cannot apply a function to millions of arguments.
        return `Invalid params: ${this.fullName} takes at most ${maxPositionalParams} positional params, got ${count}`;
      }
      if (count <= this.#lastRequired) {
        for (const i of this.#requiredIndexes) if (i >= count) return this.#missing(i);
      }
      return needsRevive(params) ? (registry.decode(params, positionalPath) as unknown[]) : params;
    }
    const named = params as Record<string, unknown>;
    const args = new Array<unknown>(this.#params.length);
    for (const key of Object.keys(named)) {
      const i = this.#index.get(key);
      if (i === undefined) {
        const takes = this.#params.length === 0 ? 'it takes no named params' : `it takes ${this.#params.join(', ')}`;
        return `Invalid params: unknown parameter ${quote(key)} for ${this.fullName} (${takes})`;
      }
      const value = named[key];
      args[i] = typeof value === 'object' && value !== null ? registry.decode(value, this.#namedPaths[i]) : value;
    }
    for (const i of this.#requiredIndexes) {
      if (!Object.hasOwn(named, this.#params[i]!)) return this.#missing(i);
    }
    return args;
  }

  #missing(i: number): string {
    return `Invalid params: missing required parameter ${quote(this.#params[i]!)} of ${this.fullName}`;
  }

  /** Calls the method: on the shared instance, on a new instance, or (built-ins) on `builtinThis`. */
  invoke(args: unknown[], builtinThis: unknown): unknown {
    const hosted = this.#hosted;
    if (hosted === undefined) return Reflect.apply(this.#fn, builtinThis, args);
    const instance = hosted.instance ?? Reflect.construct(hosted.cls, hosted.constructorArgs);
    return Reflect.apply(this.#fn, instance, args);
  }
}
