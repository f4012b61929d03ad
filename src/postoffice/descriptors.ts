// File descriptors as a shared, finite resource: the process's open-file limit and how many are
// open (so a listener can keep headroom below it), and the watch every listening server keeps for
// accept() failing with EMFILE/ENFILE: logged at most once a second, reported, never thrown.
import { readFileSync, readdirSync } from 'node:fs';
import type { Server } from 'node:net';
import type { Logger } from '../log.js';

/** The soft limit on open files (Linux, from /proc/self/limits); undefined where it cannot be read. */
export function openFileLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** File descriptors this process has open now (Linux, from /proc/self/fd); undefined elsewhere. */
export function countOpenDescriptors(): number | undefined {
  try {
    // The listing itself holds one descriptor while it reads.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
}

/** True for the errors of a process (EMFILE) or a system (ENFILE) out of file descriptors. */
export function isOutOfDescriptors(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

const logIntervalMs = 1_000;

/**
 * Keeps `server` alive through errors after it listens: out of descriptors, `onExhausted` runs
 * (libuv has already closed the connection it could not accept) and a warning is logged at most
 * once a second; anything else is logged as an error. Without this, such an error would be thrown.
 * libuv reports EMFILE only when its own spare descriptor is gone too (usually it accepts and at
 * once closes the connection, silently), so owners must also keep headroom themselves.
 */
export function watchServerErrors(server: Server, what: string, logger: Logger, onExhausted: () => void): void {
  let lastLogMs = Number.NEGATIVE_INFINITY;
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (!isOutOfDescriptors(err)) {
      logger.error({ err }, `${what}: server error`);
      return;
    }
    const nowMs = performance.now();
    if (nowMs - lastLogMs >= logIntervalMs) {
      lastLogMs = nowMs;
      logger.warn({ code: err.code }, `${what}: out of file descriptors, a connection could not be accepted`);
    }
    onExhausted();
  });
}
