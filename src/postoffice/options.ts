// The postoffice's limits and timeouts with their defaults, in one place, and their validation.
// Defaults follow PROTOCOL.md's "Default limits"; the server and client option bags extend these.
import { UsageError } from '../errors.js';

export interface PostofficeLimits {
  /** The largest DATA payload a frame may carry (default 16 MiB). */
  maxPayloadBytes: number;
  /** The whole handshake must finish within this (default 10 s). */
  handshakeTimeoutMs: number;
  /** A frame that has started must complete within this (default 30 s). */
  frameTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed (default 120 s; 0 = never). */
  idleTimeoutMs: number;
  /** Stop reading from a peer when the socket's unsent output passes this (default 8 MiB). */
  highWaterBytes: number;
  /** Close a connection whose unsent output passes this (default 64 MiB). */
  maxPendingWriteBytes: number;
}

export const postofficeDefaults: Readonly<PostofficeLimits> = Object.freeze({
  maxPayloadBytes: 16 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  frameTimeoutMs: 30_000,
  idleTimeoutMs: 120_000,
  highWaterBytes: 8 * 1024 * 1024,
  maxPendingWriteBytes: 64 * 1024 * 1024,
});

/** A TCP connect that has not completed in this long fails (the dial's default). */
export const defaultConnectTimeoutMs = 10_000;

/** Checks that `value` is an integer in [min, max]; names the option in the error. */
export function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `${name} must be an integer from ${min} to ${max}, not ${String(value)}`,
    );
  }
  return value;
}

/** Fills in defaults and validates every limit; unknown keys are left to the caller. */
export function resolveLimits(options: Partial<PostofficeLimits> = {}): PostofficeLimits {
  const limits = { ...postofficeDefaults };
  for (const key of Object.keys(postofficeDefaults) as (keyof PostofficeLimits)[]) {
    const value = options[key];
    if (value !== undefined) limits[key] = value;
  }
  checkInteger('maxPayloadBytes', limits.maxPayloadBytes, 1, 0xffff_ffff - 128);
  checkInteger('handshakeTimeoutMs', limits.handshakeTimeoutMs, 1);
  checkInteger('frameTimeoutMs', limits.frameTimeoutMs, 1);
  checkInteger('idleTimeoutMs', limits.idleTimeoutMs, 0);
  checkInteger('highWaterBytes', limits.highWaterBytes, 1);
  checkInteger('maxPendingWriteBytes', limits.maxPendingWriteBytes, limits.highWaterBytes);
  return limits;
}
