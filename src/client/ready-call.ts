// One try on a ready connection, as the GAWP/1 transport's fast path makes it: the request's pending
// entry and reply sink on its connection and its entry in the shared deadline list, in one object.
import { TimeoutError } from '../errors.js';
import type { Deadlines, DeadlineEntry } from '../deadlines.js';
import type { Balancer } from './balancer.js';
import { refusalError } from './outcomes.js';
import { Pending } from './pending-table.js';
import type { EndpointPool } from './pool.js';
import type { RpcConnection } from './rpc-connection.js';
import type { Attempt, Outcome } from './transport.js';

export function callTimeout(what: string, timeoutMs: number): TimeoutError {
  return new TimeoutError('GAW_ERR_CALL_TIMEOUT', `${what} got no reply within ${timeoutMs} ms`);
}

/**
 * One try on a ready connection: its pending entry (reply sink) on the connection and its entry in
 * the deadline list, in one object. The balancer hears how it ended, a refusal (-32001/-32002,
 * nothing ran) rejects so the retry policy sees it, and whichever of reply and deadline comes
 * first settles the promise (the deadline is linked once the request is sent).
 */
export class ReadyCall extends Pending implements DeadlineEntry {
  // The deadline list's fields (DeadlineEntry).
  atMs: number;
  prev: DeadlineEntry | undefined = undefined;
  next: DeadlineEntry | undefined = undefined;
  isLinked = false;
  readonly #balancer: Balancer;
  readonly #deadlines: Deadlines;
  readonly #rpc: RpcConnection;
  readonly #pool: EndpointPool;
  readonly #attempt: Attempt;
  readonly #resolve: (outcome: Outcome) => void;
  readonly #reject: (err: unknown) => void;

  constructor(
    balancer: Balancer,
    deadlines: Deadlines,
    rpc: RpcConnection,
    pool: EndpointPool,
    attempt: Attempt,
    resolve: (outcome: Outcome) => void,
    reject: (err: unknown) => void,
  ) {
    super();
    this.atMs = attempt.deadlineMs;
    this.#balancer = balancer;
    this.#deadlines = deadlines;
    this.#rpc = rpc;
    this.#pool = pool;
    this.#attempt = attempt;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  settle(outcome: Outcome): void {
    const refused = refusalError(outcome);
    if (refused !== undefined) {
      this.fail(refused);
      return;
    }
    const pool = this.#pool;
    if ((pool.consecutiveFailures | pool.ejections) !== 0) this.#balancer.succeeded(pool);
    if (this.#deadlines.remove(this)) this.#resolve(outcome);
  }

  fail(err: Error): void {
    this.#balancer.failed(this.#pool, err);
    if (this.#deadlines.remove(this)) this.#reject(err);
  }

  onExpire(): void {
    const { timeoutMs, what } = this.#attempt;
    this.#rpc.cancel(this.id, timeoutMs);
    const err = callTimeout(what, timeoutMs);
    this.#balancer.failed(this.#pool, err);
    this.#reject(err);
  }
}
