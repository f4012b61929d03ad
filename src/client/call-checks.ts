// The checks every GawClient call makes first, as plain functions: the method name, and option
// problems as values (call() rejects rather than throws), and each call's bounds. Helpers for
// client.ts: no sockets, no pool.
import { UsageError } from '../errors.js';
import type { CallContext } from '../context.js';
import { checkInteger } from '../postoffice/index.js';
import type { Attempt } from './transport.js';
import { checkCallOptions } from './options.js';
import type { CallOptions } from './options.js';

export function checkMethod(method: unknown): asserts method is string {
  if (typeof method !== 'string' || method.length === 0)
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'method must be a non-empty string');
}

/** The UsageError for a misspelt call option, as a value: call() rejects rather than throws. */
export function optionsProblem(options: CallOptions): unknown {
  try {
    checkCallOptions(options);
    return undefined;
  } catch (err) {
    return err;
  }
}

/**
 * One call's bounds: its deadline (retries included), its signal, its name for messages. Inside
 * a handler (unless isRoot) the handled call's deadline and signal bound it too.
 */
export function callBounds(
  defaultTimeoutMs: number,
  what: string,
  options: CallOptions,
  parent: CallContext | undefined,
): Attempt {
  let timeoutMs = options.timeoutMs === undefined ? defaultTimeoutMs : checkInteger('timeoutMs', options.timeoutMs, 1);
  let signal = options.signal;
  if (parent !== undefined) {
    // Inside a handler: never past the handled call's deadline, and cancelled with it.
    const leftMs = parent.remainingMs();
    if (leftMs < timeoutMs) timeoutMs = Math.max(0, Math.floor(leftMs));
    signal = signal === undefined ? parent.signal : AbortSignal.any([signal, parent.signal]);
  }
  return { deadlineMs: performance.now() + timeoutMs, timeoutMs, signal, what };
}
