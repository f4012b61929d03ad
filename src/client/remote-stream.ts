// What a caller iterates for a server stream: an AsyncIterator over its items (revived through the
// serializable registry), bounded by its window: it grants the server credit back as the consumer
// takes items, so a consumer that stops reading stops the producer. It ends with the stream's
// response, a RemoteError, the call's deadline, an abort, or the connection's loss; break (return())
// cancels it on the server. Opening it (the try, its retries) is the transport's.
import { AbortError, type GawError, ProtocolError, RemoteError, TimeoutError } from '../errors.js';
import { rpcErrorCodes } from '../jsonrpc/index.js';
import { watchAbort } from './abort-watch.js';
import { withCallerStack } from './outcomes.js';
import type { StreamLink, StreamReceiver } from './stream-table.js';
import type { Outcome } from './transport.js';

/** Items the server may send ahead of the consumer, by default. */
export const defaultStreamWindow = 32;

/**
 * Bytes of items the server may send ahead of the consumer, whatever the window in items: credit
 * is granted so that items granted and not yet taken (in flight, or waiting here) stay within
 * this at the item size seen so far. A unary answer on the same connection then queues behind at
 * most this much of the stream's data, not a whole window of large items (32 x 64 KiB = 2 MiB).
 */
export const streamBudgetBytes = 256 * 1024;

export interface StreamStart {
  /** Names the call in errors. */
  readonly what: string;
  readonly window: number;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  /** One item's bytes to a value. */
  readonly revive: (bytes: Buffer | undefined, data?: unknown) => unknown;
  /** Opens the stream (its tries): undefined once items flow, or the outcome of a stream that had none. */
  readonly open: (receiver: StreamReceiver) => Promise<Outcome | undefined>;
}

type End = { done: true; value?: unknown } | { error: unknown };

export class RemoteStream<T = unknown> implements AsyncIterableIterator<T>, StreamReceiver {
  readonly #start: StreamStart;
  #queue: T[] = [];
  #waiter: { resolve(step: IteratorResult<T>): void; reject(err: unknown): void } | undefined;
  #end: End | undefined;
  #hasThrown = false;
  #link: StreamLink | undefined;
  #granted = 0;
  #received = 0;
  #taken = 0;
  /** The largest item seen (0 before the first): how many items fit the byte budget. */
  #itemBytes = 0;
  readonly #timer: NodeJS.Timeout;
  readonly #unwatch: (() => void) | undefined;

  constructor(start: StreamStart) {
    this.#start = start;
    this.#timer = setTimeout(
      () =>
        this.#stop(
          new TimeoutError('GAW_ERR_CALL_TIMEOUT', `${start.what} did not finish within ${start.timeoutMs} ms`),
        ),
      start.timeoutMs,
    );
    const { signal } = start;
    if (signal?.aborted) this.#stop(aborted(start.what, signal));
    else if (signal !== undefined) this.#unwatch = watchAbort(signal, () => this.#stop(aborted(start.what, signal)));
    if (this.#end !== undefined) return;
    start.open(this).then(
      (outcome) => {
        if (outcome !== undefined) this.end(outcome);
      },
      (err: unknown) => this.#settle({ error: withCallerStack(err) }),
    );
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  attach(link: StreamLink): void {
    if (this.#end !== undefined) {
      link.cancel();
      return;
    }
    this.#link = link;
    this.#granted = this.#start.window;
    this.#received = 0;
    this.#taken = 0;
  }

  item(bytes: Buffer): GawError | undefined {
    if (this.#end !== undefined) return undefined;
    if (++this.#received > this.#granted)
      return new ProtocolError('GAW_ERR_BAD_FRAME', `bad stream entry: more items than the ${this.#granted} granted`);
    if (bytes.length > this.#itemBytes) this.#itemBytes = bytes.length;
    let value: T;
    try {
      value = this.#start.revive(bytes) as T;
    } catch (err) {
      return new ProtocolError('GAW_ERR_BAD_RESPONSE', 'the server sent a stream item that cannot be read', {
        cause: err,
      });
    }
    const waiter = this.#waiter;
    if (waiter === undefined) this.#queue.push(value);
    else {
      this.#waiter = undefined;
      this.#consumed();
      waiter.resolve({ value, done: false });
    }
    return undefined;
  }

  end(outcome: Outcome | Error): void {
    if (outcome instanceof Error) this.#settle({ error: withCallerStack(outcome) });
    else if ('error' in outcome) {
      const { code, message, data } = outcome.error;
      const remote = new RemoteError(code, message, data);
      this.#settle({
        error:
          code === rpcErrorCodes.DEADLINE_EXCEEDED
            ? new TimeoutError('GAW_ERR_CALL_TIMEOUT', `${this.#start.what} ran out of time: ${message}`, {
                cause: remote,
              })
            : remote,
      });
    } else {
      let value: unknown;
      try {
        value = this.#start.revive(undefined, outcome.result);
      } catch (err) {
        this.#settle({ error: err });
        return;
      }
      this.#settle({ done: true, value });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#queue.length > 0) {
      const value = this.#queue.shift() as T;
      this.#consumed();
      return Promise.resolve({ value, done: false });
    }
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

  /** The consumer left the loop (break, return, a throw): the server's producer is stopped. */
  return(): Promise<IteratorResult<T>> {
    if (this.#end === undefined) this.#stop(undefined);
    this.#hasThrown = true;
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<T>> {
    this.return();
    return Promise.reject(err);
  }

  /** The stream's return value (the server's generator's), once it has ended normally. */
  get returnValue(): unknown {
    const end = this.#end;
    return end !== undefined && 'done' in end ? end.value : undefined;
  }

  /**
   * The consumer took an item: when the items granted and not yet taken fall to half the target
   * (the window, or fewer when that many items of the size seen would pass streamBudgetBytes),
   * credit brings them back up to it.
   */
  #consumed(): void {
    this.#taken++;
    if (this.#end !== undefined || this.#link === undefined) return;
    const { window } = this.#start;
    const target =
      this.#itemBytes === 0 ? window : Math.max(1, Math.min(window, Math.floor(streamBudgetBytes / this.#itemBytes)));
    const ahead = this.#granted - this.#taken;
    if (ahead > Math.floor(target / 2)) return;
    const credit = target - ahead;
    this.#granted += credit;
    this.#link.credit(credit);
  }

  /** Stopped here (deadline, abort, break): the server is told, items waiting are dropped. */
  #stop(err: Error | undefined): void {
    if (this.#end !== undefined) return;
    this.#queue = [];
    this.#settle(err === undefined ? { done: true } : { error: err });
    this.#link?.cancel();
  }

  #settle(end: End): void {
    if (this.#end !== undefined) return;
    this.#end = end;
    clearTimeout(this.#timer);
    this.#unwatch?.();
    const waiter = this.#waiter;
    if (waiter === undefined || this.#queue.length > 0) return;
    this.#waiter = undefined;
    if ('error' in end) {
      this.#hasThrown = true;
      waiter.reject(end.error);
    } else waiter.resolve({ value: undefined, done: true });
  }
}

function aborted(what: string, signal: AbortSignal): AbortError {
  return new AbortError(`${what} was aborted`, { cause: signal.reason });
}
