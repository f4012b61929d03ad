// The legacy client's checks at either end of a call: the method name to Python's path, the shape
// of `{ args, kwargs }` params, and a reply's bytes opened and read, with each failure turned into
// the error the caller sees. Pure; the call lifecycle and the pool are in client.ts.
import { GawError, ProtocolError, UsageError } from '../errors.js';
import { isPlainObject } from '../jsonrpc/index.js';
import { parseJsonBytes } from './codec.js';
import { readReply } from './message.js';
import type { LegacyReply } from './message.js';
import { openBody } from './seal.js';
import type { LegacySealing } from './seal.js';

export function readReplyBytes(json: Buffer): LegacyReply {
  try {
    return readReply(parseJsonBytes(json));
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw new ProtocolError(
      'GAW_ERR_BAD_RESPONSE',
      `unreadable reply from the legacy server: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

export function openBodyOrFail(sealing: LegacySealing, body: Buffer): Buffer {
  try {
    return openBody(sealing, body);
  } catch (err) {
    if (err instanceof GawError && err.code === 'GAW_ERR_AUTH_FAILED') {
      throw new ProtocolError(
        'GAW_ERR_AUTH_FAILED',
        'a reply from the legacy server failed authentication: the secret or the encrypt setting is probably wrong',
        { cause: err },
      );
    }
    throw err;
  }
}

/** 'service.method' to Python's 'service/method' (the method is after the last dot). */
export function toPath(method: string): string {
  const dot = typeof method === 'string' ? method.lastIndexOf('.') : -1;
  if (dot <= 0 || dot === method.length - 1) {
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `method must be 'service.method', not ${JSON.stringify(String(method)).slice(0, 80)}`,
    );
  }
  return `${method.slice(0, dot)}/${method.slice(dot + 1)}`;
}

export function isArgsAndKwargs(params: unknown): params is { args?: unknown[]; kwargs?: Record<string, unknown> } {
  if (!isPlainObject(params)) return false;
  const keys = Object.keys(params);
  if (keys.length === 0 || !keys.every((key) => key === 'args' || key === 'kwargs')) return false;
  return (
    (params.args === undefined || Array.isArray(params.args)) &&
    (params.kwargs === undefined || isPlainObject(params.kwargs))
  );
}
