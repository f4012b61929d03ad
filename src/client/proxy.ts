// The Node client's typed service proxies: the transport-free proxy of jsonrpc/proxy.ts bound to
// the client's CallOptions (signal, timeoutMs, isIdempotent, isRoot, ids, trace context,
// streamWindow), checked when given to `.with()`: `math.plus.with({ signal, timeoutMs })(1, 2)`.
// A method that streams is iterated instead: `for await (const row of db.scan(q))` (RemoteCall
// below tells the two uses apart).
import { UsageError } from '../errors.js';
import { createProxy } from '../jsonrpc/index.js';
import type { InvokeWith, JsonRpcParams, ProxyDefaults, RemoteMethodOf } from '../jsonrpc/index.js';
import { checkCallOptions } from './options.js';
import type { CallOptions } from './options.js';

export { createServicesProxy } from '../jsonrpc/index.js';

/** One remote method: the service method's own parameters, its result promised (awaited). */
export type RemoteMethod<A extends unknown[], R> = RemoteMethodOf<A, R, CallOptions>;

/** A remote method that streams (an async generator, or a method returning an AsyncIterable): its items, iterated. */
export type RemoteStreamMethod<A extends unknown[], I> = ((...args: A) => AsyncIterable<I>) & {
  /** The same method with per-call options (signal, timeoutMs, streamWindow...) for the next call. */
  with(options: CallOptions): (...args: A) => AsyncIterable<I>;
};

/** The methods of T as remote calls: same parameters, promised (awaited) results; streams as AsyncIterables. */
/** The methods of T as remote calls: same parameters, promised (awaited) results; streams as AsyncIterables. */
export type Remote<T> = {
  readonly [K in keyof T as T[K] extends (...args: any[]) => any ? K : never]: T[K] extends (
    ...args: infer A
  ) => infer R
    ? R extends AsyncIterable<infer I>
      ? RemoteStreamMethod<A, I>
      : RemoteMethod<A, R>
    : never;
};
export interface ServiceProxyOptions<T = unknown> extends ProxyDefaults<T> {}

export type Invoke = InvokeWith<CallOptions>;

/** Opens a stream: what a proxy method's result becomes when it is iterated instead of awaited. */
export type OpenStream = (
  method: string,
  params: JsonRpcParams,
  isIdempotent: boolean,
  options: CallOptions,
) => AsyncIterable<unknown>;

/**
 * What a proxy method returns. The proxy cannot know whether the method streams, so the caller's
 * use decides: iterated in the same tick (`for await` does) it opens a stream; awaited, or left
 * alone until the next tick, it is sent as a single call, as a promise would be.
 */
class RemoteCall implements PromiseLike<unknown>, AsyncIterable<unknown> {
  readonly #what: string;
  #unary: (() => Promise<unknown>) | undefined;
  #stream: (() => AsyncIterable<unknown>) | undefined;
  #promise: Promise<unknown> | undefined;

  constructor(what: string, unary: () => Promise<unknown>, stream: () => AsyncIterable<unknown>) {
    this.#what = what;
    this.#unary = unary;
    this.#stream = stream;
    process.nextTick(sendUnlessIterated, this);
  }

  /** The single call, sent now if it was not yet. */
  get promise(): Promise<unknown> {
    if (this.#promise === undefined) {
      const unary = this.#unary;
      this.#unary = undefined;
      this.#promise =
        unary === undefined
          ? Promise.reject(new UsageError('GAW_ERR_INVALID_OPTION', `${this.#what} is being iterated as a stream`))
          : unary();
    }
    return this.#promise;
  }

  get [Symbol.toStringTag](): string {
    return 'RemoteCall';
  }

  get isStarted(): boolean {
    return this.#promise !== undefined || this.#unary === undefined;
  }

  // biome-ignore lint/suspicious/noThenProperty: a RemoteCall is awaited like the promise it stands for.
  then<A = unknown, B = never>(
    onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.promise.then(onFulfilled, onRejected);
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<unknown> {
    return this.promise.catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<unknown> {
    return this.promise.finally(onFinally);
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    const stream = this.#stream;
    if (this.#promise !== undefined || stream === undefined)
      throw new UsageError(
        'GAW_ERR_INVALID_OPTION',
        `${this.#what} was already sent as a single call: iterate a streaming method (for await) in the tick it is called`,
      );
    this.#stream = undefined;
    this.#unary = undefined;
    return stream()[Symbol.asyncIterator]();
  }
}

function sendUnlessIterated(call: RemoteCall): void {
  if (!call.isStarted) call.promise.catch(() => {});
}

/** `stream`, when given, opens a method's stream when its result is iterated rather than awaited. */
export function createServiceProxy<T>(
  serviceName: string,
  invoke: Invoke,
  options: ServiceProxyOptions<T> = {},
  stream?: OpenStream,
): Remote<T> {
  const call: Invoke =
    stream === undefined
      ? invoke
      : (method, params, isIdempotent, callOptions) =>
          // Typed as the promise it stands for (Remote<T> types the streaming methods apart).
          new RemoteCall(
            method,
            () => invoke(method, params, isIdempotent, callOptions),
            () => stream(method, params, isIdempotent, callOptions),
          ) as unknown as Promise<unknown>;
  return createProxy<T, CallOptions>(serviceName, call, options, checkCallOptions) as unknown as Remote<T>;
}
