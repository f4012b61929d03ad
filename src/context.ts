// The call context: what a handler knows about the call it is running (its deadline, a signal that
// aborts when the caller gives up, the request id and trace context that follow the call across
// services), kept in AsyncLocalStorage so helpers the handler awaits see it too. The server sets
// it around each handler; a GawClient call made inside reads it to pass the deadline, the
// cancellation and the ids on. Shared by the server and client areas; no sockets here.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, randomFillSync } from 'node:crypto';

export interface CallContext {
  /** Aborts when the caller cancels, the deadline passes, or the caller's connection dies. */
  readonly signal: AbortSignal;
  /** When the caller stops waiting, in epoch milliseconds; undefined when it waits forever. */
  readonly deadline: number | undefined;
  /** Milliseconds left before the deadline (0 once passed); Infinity without a deadline. */
  remainingMs(): number;
  /** The caller's request id (kept across hops), or one made here. */
  readonly requestId: string;
  /** The W3C trace context the call came with. */
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
  /** The caller's address, `host:port` (the HTTP client's for bridged calls). */
  readonly peer: string;
  /** `service.method`. */
  readonly method: string;
}

const storage = new AsyncLocalStorage<CallContext>();

/**
 * The context of a synchronous handler while it runs. On Node 20 the first AsyncLocalStorage.run
 * turns on promise hooks for the whole process (measured: each await 2-3x slower, 5-25% on a tiny
 * call), so a handler that cannot await (not an async function) gets its context this way, at no
 * cost; async handlers get AsyncLocalStorage, which follows their awaits.
 */
let current: CallContext | undefined;

/** The context of the call being handled, in a handler and everything it calls; undefined elsewhere. */
export function callContext(): CallContext | undefined {
  return current ?? storage.getStore();
}

/**
 * Runs `fn` with `context` as the current call context (the server does this around each handler):
 * through AsyncLocalStorage when `followsAwaits`, else for the synchronous run of `fn` only.
 */
export function runWithCallContext<T>(context: CallContext, followsAwaits: boolean, fn: () => T): T {
  if (followsAwaits) {
    const outer = current;
    current = undefined;
    try {
      return storage.run(context, fn);
    } finally {
      current = outer;
    }
  }
  const outer = current;
  current = context;
  try {
    return fn();
  } finally {
    current = outer;
  }
}

/** Runs `fn` outside any call context: calls it makes start fresh (no inherited deadline or ids). */
export function runAsRoot<T>(fn: () => T): T {
  const outer = current;
  current = undefined;
  try {
    return storage.exit(fn);
  } finally {
    current = outer;
  }
}

const idPrefix = randomBytes(6).toString('base64url');
let idCounter = 0;

/** A request id unique to this process and run: a random prefix and a counter (cheap: no randomness per call). */
export function newRequestId(): string {
  idCounter = idCounter >= Number.MAX_SAFE_INTEGER ? 1 : idCounter + 1;
  return `${idPrefix}-${idCounter.toString(36)}`;
}

/** Random bytes taken from a pool refilled 4 KiB at a time: a span id per call costs no syscall. */
const pool = Buffer.allocUnsafe(4096);
let poolAt = pool.length;

function randomHex(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const hex = pool.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
  return /^0+$/.test(hex) ? randomHex(bytes) : hex; // an all-zero id is invalid in W3C trace context
}

/** A child of `traceparent` (same trace id and flags, a new parent id), for the next hop. */
export function childTraceparent(traceparent: string): string {
  return `${traceparent.slice(0, 36)}${randomHex(8)}${traceparent.slice(52)}`;
}
