// Typed service proxies with no code generation: `Remote<T>` maps a service class's methods to
// promise-returning calls, and a Proxy turns property access into `service.method` calls.
import type { JsonRpcParams } from '../jsonrpc/index.js';

/** The methods of T as remote calls: same parameters, promised (awaited) results. */
export type Remote<T> = {
  readonly [K in keyof T as T[K] extends (...args: any[]) => any ? K : never]: T[K] extends (
    ...args: infer A
  ) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

export interface ServiceProxyOptions<T = unknown> {
  /** Methods safe to run twice (retried after transport failures); `true` for all of them. */
  idempotent?: true | readonly (keyof T & string)[];
  /** Per-call timeout for this service's calls. */
  timeoutMs?: number;
}

export type Invoke = (
  method: string,
  params: JsonRpcParams,
  isIdempotent: boolean,
  timeoutMs: number | undefined,
) => Promise<unknown>;

/** Names a proxy never turns into calls: promise-detection and inspection would misfire. */
const RESERVED = new Set(['then', 'catch', 'finally', 'toJSON', 'constructor', 'inspect']);

export function createServiceProxy<T>(
  serviceName: string,
  invoke: Invoke,
  options: ServiceProxyOptions<T> = {},
): Remote<T> {
  const idempotent = options.idempotent;
  const cache = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy(Object.create(null) as object, {
    get(_target, property) {
      if (typeof property !== 'string' || RESERVED.has(property)) return undefined;
      let method = cache.get(property);
      if (method === undefined) {
        const fullName = `${serviceName}.${property}`;
        const isIdempotent = idempotent === true || (Array.isArray(idempotent) && idempotent.includes(property));
        method = (...args: unknown[]) => invoke(fullName, args, isIdempotent, options.timeoutMs);
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
