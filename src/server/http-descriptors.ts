// How many descriptors the HTTP bridge may hold: its connection cap's default, the count from which
// each new connection checks the process's open descriptors, and what must stay free for the rest
// of the process (the GAWP port first). From the open-file limit; no limit known, no checks.
import { openFileLimit } from '../postoffice/index.js';

/**
 * Descriptor headroom: the connection cap's default (1,024, at most half the open-file limit), the
 * bridge connection count from which each new connection checks the process's open descriptors,
 * and how many descriptors must stay free for everything else (the GAWP port first).
 */
export function descriptorBudget(maxConnections: number): {
  defaultCap: number;
  checkFrom: number;
  reserve: number;
  limit: number;
} {
  const limit = openFileLimit();
  if (limit === undefined)
    return { defaultCap: maxConnections, checkFrom: Number.POSITIVE_INFINITY, reserve: 0, limit: 0 };
  return {
    defaultCap: Math.max(1, Math.min(maxConnections, limit >> 1)),
    checkFrom: Math.max(1, limit >> 2),
    reserve: Math.max(32, limit >> 3),
    limit,
  };
}
