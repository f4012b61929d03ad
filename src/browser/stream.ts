// What a page iterates for a streaming method over the WebSocket: the items of the request's
// rpc.stream notifications (decoded with the client's registry) as they arrive, then the end with
// its response: done, or a RemoteError thrown by the loop. Leaving the loop (break, return, a
// throw) aborts the exchange, which sends rpc.cancel: the server's generator stops. A browser's
// WebSocket cannot push back, so items the loop has not taken yet wait here.
import { RemoteError } from '../errors.js';
import { isPlainObject, parseResponse } from '../jsonrpc/index.js';

export interface BrowserStreamStart {
  /** One item's wire value to a value (the registry's decode). */
  readonly decode: (wire: unknown) => unknown;
  /** Sends the request under `signal`: each item goes to onItem; resolves with the response. */
  readonly open: (onItem: (wire: unknown) => void, signal: AbortSignal) => Promise<unknown>;
  /** The caller's signal, if any: aborting it ends the loop with its reason. */
  readonly signal: AbortSignal | undefined;
}

type End = { done: true; value: unknown } | { error: unknown };

export class BrowserStream<T = unknown> implements AsyncIterableIterator<T> {
  readonly #controller = new AbortController();
  #queue: T[] = [];
  #waiter: { resolve(step: IteratorResult<T>): void; reject(err: unknown): void } | undefined;
  #end: End | undefined;
  #hasThrown = false;

  constructor(start: BrowserStreamStart) {
    const { signal } = start;
    if (signal !== undefined) {
      const onAbort = () => this.#controller.abort(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
    const onItem = (wire: unknown): void => {
      if (this.#end !== undefined) return;
      let value: T;
      try {
        value = start.decode(wire) as T;
      } catch (err) {
        this.#settle({ error: err });
        this.#controller.abort(err);
        return;
      }
      const waiter = this.#waiter;
      if (waiter === undefined) this.#queue.push(value);
      else {
        this.#waiter = undefined;
        waiter.resolve({ value, done: false });
      }
    };
    start.open(onItem, this.#controller.signal).then(
      (reply) => {
        try {
          if (!isPlainObject(reply)) throw new RemoteError(-32603, 'the stream ended without a response');
          const parsed = parseResponse(reply);
          if ('error' in parsed) throw new RemoteError(parsed.error.code, parsed.error.message, parsed.error.data);
          this.#settle({ done: true, value: start.decode(parsed.result) });
        } catch (err) {
          this.#settle({ error: err });
        }
      },
      (err: unknown) => this.#settle({ error: err }),
    );
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#queue.length > 0) return Promise.resolve({ value: this.#queue.shift() as T, done: false });
    const end = this.#end;
    if (end !== undefined) {
      if ('error' in end && !this.#hasThrown) {
        this.#hasThrown = true;
        return Promise.reject(end.error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** The loop ended early: the request is aborted (rpc.cancel), items not taken are dropped. */
  return(): Promise<IteratorResult<T>> {
    this.#queue = [];
    this.#hasThrown = true;
    if (this.#end === undefined) {
      this.#settle({ done: true, value: undefined });
      this.#controller.abort();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<T>> {
    this.return();
    return Promise.reject(err);
  }

  /** The generator's return value, once the stream has ended normally. */
  get returnValue(): unknown {
    const end = this.#end;
    return end !== undefined && 'done' in end ? end.value : undefined;
  }

  #settle(end: End): void {
    if (this.#end !== undefined) return;
    this.#end = end;
    const waiter = this.#waiter;
    if (waiter === undefined || this.#queue.length > 0) return;
    this.#waiter = undefined;
    if ('error' in end) {
      this.#hasThrown = true;
      waiter.reject(end.error);
    } else waiter.resolve({ value: undefined, done: true });
  }
}
