// The Node client's typed service proxies: the transport-free proxy of jsonrpc/proxy.ts bound to
// the client's CallOptions (signal, timeoutMs, isIdempotent, isRoot, ids and trace context),
// checked when given to `.with()`: `math.plus.with({ signal, timeoutMs })(1, 2)`.
import { createProxy } from '../jsonrpc/index.js';
import type { InvokeWith, ProxyDefaults, RemoteMethodOf, RemoteOf } from '../jsonrpc/index.js';
import { checkCallOptions } from './options.js';
import type { CallOptions } from './options.js';

export { createServicesProxy } from '../jsonrpc/index.js';

/** One remote method: the service method's own parameters, its result promised (awaited). */
export type RemoteMethod<A extends unknown[], R> = RemoteMethodOf<A, R, CallOptions>;

/** The methods of T as remote calls: same parameters, promised (awaited) results. */
export type Remote<T> = RemoteOf<T, CallOptions>;

export interface ServiceProxyOptions<T = unknown> extends ProxyDefaults<T> {}

export type Invoke = InvokeWith<CallOptions>;

export function createServiceProxy<T>(
  serviceName: string,
  invoke: Invoke,
  options: ServiceProxyOptions<T> = {},
): Remote<T> {
  return createProxy<T, CallOptions>(serviceName, invoke, options, checkCallOptions);
}
