// The server's side of the call context: one InboundCall per request it runs, built from what the
// request carried (the call-context extension's budget, request id and trace context, or the HTTP
// bridge's headers) and from where it came. Its signal aborts when the deadline passes, when the
// caller cancels, or when the caller's connection dies; it is made only when someone asks for it,
// since an AbortController costs more than the rest of a tiny call. InboundCalls is the table one
// connection keeps so a CANCEL can find its request.
import { AbortError, ConnectionError, TimeoutError } from '../errors.js';
import type { GawError } from '../errors.js';
import type { CallContext } from '../context.js';
import { newRequestId } from '../context.js';
import { Deadlines } from '../deadlines.js';
import type { Deadline } from '../deadlines.js';
import type { WireContext } from '../postoffice/index.js';
import type { StreamSink } from './served-streams.js';

/** Budgets a timer cannot hold mean no deadline. */
const MAX_BUDGET_MS = 2 ** 31 - 1;

/** Where requests come from: the peer, and what came with them. */
export interface CallOrigin {
  /** `host:port` of the caller. */
  readonly peer: string;
  /** What the request carried; undefined without the extension. */
  readonly wire: WireContext | undefined;
  /** performance.now() when the request was read (the budget counts from then). */
  readonly receivedAt: number;
  /** The connection's table of requests in flight, so a CANCEL finds them (GAWP with the extension). */
  readonly calls?: InboundCalls | undefined;
  /** Where a streaming result's items go (GAWP/1 with the stream extension, the HTTP bridge's NDJSON). */
  readonly streams?: StreamSink | undefined;
  /** Set when the request waited for a slot before it started (its deadline may have passed meanwhile). */
  hasWaited?: boolean;
}

const deadlines = new Deadlines();

export class InboundCall implements CallContext {
  readonly method: string;
  readonly peer: string;
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
  readonly #deadlineAt: number;
  readonly #budgetMs: number;
  #deadlineEpoch: number | undefined;
  #requestId: string | undefined;
  #controller: AbortController | undefined;
  /**
   * Why the call was given up on: an error, or a function making it. Errors capture a stack, and a
   * wave of 5,000 timed-out calls would make 10,000 of them that nobody reads: made when read.
   */
  #reason: GawError | (() => GawError) | undefined;
  #timer: Deadline | undefined;

  constructor(method: string, origin: CallOrigin) {
    const wire = origin.wire;
    this.method = method;
    this.peer = origin.peer;
    this.#requestId = wire?.requestId;
    this.traceparent = wire?.traceparent;
    this.tracestate = wire?.tracestate;
    const budgetMs = wire?.budgetMs;
    if (budgetMs === undefined || budgetMs > MAX_BUDGET_MS) {
      this.#deadlineAt = Infinity;
      this.#budgetMs = -1;
      return;
    }
    this.#budgetMs = budgetMs;
    this.#deadlineAt = origin.receivedAt + budgetMs;
    // A request that waited for a slot may have run out of time in the queue.
    if (budgetMs === 0 || (origin.hasWaited === true && this.#deadlineAt <= performance.now()))
      this.#reason = () => deadlinePassed(budgetMs);
  }

  /** When the caller stops waiting, in epoch milliseconds; undefined when it sent no deadline. */
  get deadline(): number | undefined {
    if (this.#deadlineAt === Infinity) return undefined;
    this.#deadlineEpoch ??= Math.round(Date.now() + (this.#deadlineAt - performance.now()));
    return this.#deadlineEpoch;
  }

  /**
   * The handler returned a promise: from now on the deadline can pass while it runs, so a timer
   * aborts the signal then. (A synchronous handler is over before any timer could fire.)
   */
  armDeadline(): void {
    if (this.#deadlineAt === Infinity || this.#reason !== undefined || this.#timer !== undefined) return;
    const budgetMs = this.#budgetMs;
    this.#timer = deadlines.addAt(this.#deadlineAt, () => this.abort(() => deadlinePassed(budgetMs)));
  }

  get requestId(): string {
    this.#requestId ??= newRequestId();
    return this.#requestId;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      const reason = this.abortReason;
      if (reason !== undefined) this.#controller.abort(reason);
    }
    return this.#controller.signal;
  }

  remainingMs(): number {
    if (this.#deadlineAt === Infinity) return Infinity;
    return Math.max(0, this.#deadlineAt - performance.now());
  }

  /** Why the call was given up on (deadline, cancel, connection gone), or undefined while it stands. */
  get abortReason(): GawError | undefined {
    if (typeof this.#reason === 'function') this.#reason = this.#reason();
    return this.#reason;
  }

  /** Gives the call up (once): its signal aborts with `reason`, made now only if the signal exists. */
  abort(reason: GawError | (() => GawError)): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#stopTimer();
    if (this.#controller !== undefined) this.#controller.abort(this.abortReason);
  }

  /** The request finished: its deadline timer goes. */
  settle(): void {
    this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) deadlines.remove(this.#timer);
    this.#timer = undefined;
  }
}

export function cancelled(): AbortError {
  return new AbortError('the caller cancelled the request');
}

function deadlinePassed(budgetMs: number): TimeoutError {
  return new TimeoutError('GAW_ERR_DEADLINE', `the caller's deadline passed (its budget was ${budgetMs} ms)`);
}

/** Most CANCELs remembered for requests that are still waiting for a slot (the rest are ignored). */
const MAX_EARLY_CANCELS = 4096;

/**
 * The requests in flight on one connection, by the JSON text of their id, for CANCEL; and, while
 * requests wait for a slot, the ids cancelled before they started (bounded), so they never start.
 */
export class InboundCalls {
  readonly #byId = new Map<string, InboundCall>();
  readonly #early = new Set<string>();
  /** Set by the connection while requests wait for a slot. */
  hasWaiting = false;

  static key(id: number | string): string {
    return typeof id === 'number' ? String(id) : JSON.stringify(id);
  }

  get size(): number {
    return this.#byId.size;
  }

  add(id: number | string, call: InboundCall): void {
    this.#byId.set(InboundCalls.key(id), call);
  }

  delete(id: number | string, call: InboundCall): void {
    const key = InboundCalls.key(id);
    if (this.#byId.get(key) === call) this.#byId.delete(key);
  }

  /** The client sent CANCEL for `idText`; an id neither running nor waiting is ignored. */
  cancel(idText: string): void {
    const call = this.#byId.get(idText);
    if (call !== undefined) call.abort(cancelled);
    else if (this.hasWaiting && this.#early.size < MAX_EARLY_CANCELS) this.#early.add(idText);
  }

  /** Whether the request `id`, about to start, was cancelled while it waited (forgets it). */
  wasCancelled(id: unknown): boolean {
    if (this.#early.size === 0 || (typeof id !== 'number' && typeof id !== 'string')) return false;
    return this.#early.delete(InboundCalls.key(id));
  }

  /** Nothing waits any more: a CANCEL remembered now could only be for an id never sent. */
  forgetEarly(): void {
    this.hasWaiting = false;
    this.#early.clear();
  }

  /** The connection is gone: every request still running is given up on. */
  abortAll(): void {
    if (this.#byId.size === 0) return;
    let gone: ConnectionError | undefined;
    const reason = () => {
      gone ??= new ConnectionError('GAW_ERR_CONN_CLOSED', "the caller's connection closed");
      return gone;
    };
    for (const call of this.#byId.values()) call.abort(reason);
    this.#byId.clear();
  }
}
