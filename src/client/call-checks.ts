// The checks every GawClient call makes first, as plain functions: the method name, and option
// problems as values (call() rejects rather than throws). Helpers for client.ts: no sockets, no pool.
import { UsageError } from '../errors.js';
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
