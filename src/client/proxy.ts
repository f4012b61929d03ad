// Typed service proxies with no code generation: `Remote<T>` maps a service class's methods to
// promise-returning calls, and a Proxy turns property access into `service.method` calls. Each
// method also takes per-call options without touching its parameter list:
// `math.plus.with({ signal, timeoutMs })(1, 2)`.
import type { JsonRpcParams } from '../jsonrpc/index.js';
import { checkCallOptions } from './options.js';
import type { CallOptions } from './options.js';

/** One remote method: the service method's own parameters, its result promised (awaited). */
export type RemoteMethod<A extends unknown[], R> = ((...args: A) => Promise<Awaited<R>>) & {
  /** The same method with per-call options (signal, timeoutMs, isIdempotent) for the next call. */
  with(options: CallOptions): (...args: A) => Promise<Awaited<R>>;
};

/** The methods of T as remote calls: same parameters, promised (awaited) results. */
export type Remote<T> = {
  readonly [K in keyof T as T[K] extends (...args: any[]) => any ? K : never]: T[K] extends (
    ...args: infer A
  ) => infer R
    ? RemoteMethod<A, R>
    : never;
};

export interface ServiceProxyOptions<T = unknown> {
  /** Methods safe to run twice (retried after transport failures); `true` for all of them. */
  idempotent?: true | readonly (keyof T & string)[];
  /** Per-call timeout for this service's calls. */
  timeoutMs?: number;
  /** Aborts every call made through this proxy (for a proxy made per request or per task). */
  signal?: AbortSignal;
}

export type Invoke = (
  method: string,
  params: JsonRpcParams,
  isIdempotent: boolean,
  options: CallOptions,
) => Promise<unknown>;

/** Names a proxy never turns into calls: promise-detection and inspection would misfire. */
const RESERVED = new Set(['then', 'catch', 'finally', 'toJSON', 'constructor', 'inspect']);

export function createServiceProxy<T>(
  serviceName: string,
  invoke: Invoke,
  options: ServiceProxyOptions<T> = {},
): Remote<T> {
  const { idempotent, timeoutMs, signal } = options;
  const defaults: CallOptions = {
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(signal !== undefined && { signal }),
  };
  const cache = new Map<string, RemoteMethod<unknown[], unknown>>();
  return new Proxy(Object.create(null) as object, {
    get(_target, property) {
      if (typeof property !== 'string' || RESERVED.has(property)) return undefined;
      let method = cache.get(property);
      if (method === undefined) {
        const fullName = `${serviceName}.${property}`;
        const isIdempotent = idempotent === true || (Array.isArray(idempotent) && idempotent.includes(property));
        const call = (...args: unknown[]) => invoke(fullName, args, isIdempotent, defaults);
        method = Object.assign(call, {
          with(callOptions: CallOptions) {
            checkCallOptions(callOptions);
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
  }) as Remote<T>;
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
