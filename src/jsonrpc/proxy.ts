// Typed `service.method` proxies with no code generation, free of any transport: `RemoteOf<T, O>`
// maps a service class's methods to promise-returning calls, and a Proxy turns property access
// into calls of an `invoke` function. Each method also takes per-call options of type O without
// touching its parameter list: `math.plus.with({ signal, timeoutMs })(1, 2)`. The Node client
// (client/proxy.ts) and the browser client bind O to their own call options.
import type { JsonRpcParams } from './message.js';

/** One remote method: the service method's own parameters, its result promised (awaited). */
export type RemoteMethodOf<A extends unknown[], R, O> = ((...args: A) => Promise<Awaited<R>>) & {
  /** The same method with per-call options for the next call. */
  with(options: O): (...args: A) => Promise<Awaited<R>>;
};

/** The methods of T as remote calls taking per-call options O: same parameters, promised results. */
export type RemoteOf<T, O> = {
  readonly [K in keyof T as T[K] extends (...args: any[]) => any ? K : never]: T[K] extends (
    ...args: infer A
  ) => infer R
    ? RemoteMethodOf<A, R, O>
    : never;
};

/** What every proxy option bag has: the per-call defaults and the idempotent methods. */
export interface ProxyDefaults<T> {
  /** Methods safe to run twice (retried after transport failures); `true` for all of them. */
  idempotent?: true | readonly (keyof T & string)[];
  /** Per-call timeout for this service's calls. */
  timeoutMs?: number;
  /** Aborts every call made through this proxy (for a proxy made per request or per task). */
  signal?: AbortSignal;
}

export type InvokeWith<O> = (
  method: string,
  params: JsonRpcParams,
  isIdempotent: boolean,
  options: O,
) => Promise<unknown>;

/** Names a proxy never turns into calls: promise-detection and inspection would misfire. */
const RESERVED = new Set(['then', 'catch', 'finally', 'toJSON', 'constructor', 'inspect']);

/** `checkOptions` validates the options given to `.with()` (it throws naming the problem). */
export function createProxy<T, O extends { timeoutMs?: number; signal?: AbortSignal; isIdempotent?: boolean }>(
  serviceName: string,
  invoke: InvokeWith<O>,
  options: ProxyDefaults<T>,
  checkOptions: (options: O) => void,
): RemoteOf<T, O> {
  const { idempotent, timeoutMs, signal } = options;
  const defaults = {
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(signal !== undefined && { signal }),
  } as O;
  const cache = new Map<string, RemoteMethodOf<unknown[], unknown, O>>();
  return new Proxy(Object.create(null) as object, {
    get(_target, property) {
      if (typeof property !== 'string' || RESERVED.has(property)) return undefined;
      let method = cache.get(property);
      if (method === undefined) {
        const fullName = `${serviceName}.${property}`;
        const isIdempotent = idempotent === true || (Array.isArray(idempotent) && idempotent.includes(property));
        const call = (...args: unknown[]) => invoke(fullName, args, isIdempotent, defaults);
        method = Object.assign(call, {
          with(callOptions: O) {
            checkOptions(callOptions);
            const merged = { ...defaults, ...callOptions };
            return (...args: unknown[]) => invoke(fullName, args, merged.isIdempotent ?? isIdempotent, merged);
          },
        });
        cache.set(property, method);
      }
      return method;
    },
    has: () => false,
    set: () => false,
    ownKeys: () => [],
  }) as RemoteOf<T, O>;
}

/** `client.services.math_service.plus(10, 20)`: the dynamic form for JavaScript. */
export function createServicesProxy(
  proxyFor: (serviceName: string) => unknown,
): Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>> {
  const cache = new Map<string, unknown>();
  return new Proxy(Object.create(null) as object, {
    get(_target, property) {
      if (typeof property !== 'string' || RESERVED.has(property)) return undefined;
      let service = cache.get(property);
      if (service === undefined) {
        service = proxyFor(property);
        cache.set(property, service);
      }
      return service;
    },
    has: () => false,
    set: () => false,
    ownKeys: () => [],
  }) as Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>>;
}
