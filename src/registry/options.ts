// The registry's option bag (the `discovery` option of GawServer and GawClient, `--registry` on the
// CLI), its defaults in one table, and the checks. Production defaults; tests pass short ones.
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { checkOptionKeys } from '../options.js';
import { parseRedisUrl } from '../redis/index.js';
import type { RedisTarget } from '../redis/index.js';
import { isServiceName } from './record.js';

export interface DiscoveryOptions {
  /** redis://host:port/db, rediss://..., redis+unix:///path or unix:///path?db=N. */
  url: string;
  /** Keeps several deployments apart in one Redis (default `default`). */
  namespace?: string;
  /** A server's registration lives this long without a heartbeat (default 10 000 ms). */
  ttlMs?: number;
  /** A server heartbeats this often, ±10% (default 3 000 ms). */
  heartbeatMs?: number;
  /** Each Redis command's bound (default 1 000 ms). */
  commandTimeoutMs?: number;
  /** A client re-reads what it watches this often, catching lost messages (default 10 000 ms). */
  resyncMs?: number;
  /** A client waits this long for the first read of a name (default 1 000 ms). */
  discoveryTimeoutMs?: number;
  /** Server: the address clients dial, `host:port`; required when listening on 0.0.0.0 or ::. */
  advertise?: string;
  /** Server: relative share of calls (default 100). */
  weight?: number;
  /** Server: a free-form zone label (`eu-1`). */
  zone?: string;
  /** Server: processes behind the address (a --workers group; default 1). */
  workers?: number;
}

export interface ResolvedDiscovery {
  readonly target: RedisTarget;
  readonly namespace: string;
  readonly ttlMs: number;
  readonly heartbeatMs: number;
  readonly commandTimeoutMs: number;
  readonly resyncMs: number;
  readonly discoveryTimeoutMs: number;
  readonly advertise: string | undefined;
  readonly weight: number;
  readonly zone: string | undefined;
  readonly workers: number;
  /** Reconnect attempts never wait longer than a beat (5 s at most): a restarted Redis is refilled within a beat or two. */
  readonly maxReconnectMs: number;
  readonly logger: Logger;
}

export const discoveryDefaults = Object.freeze({
  namespace: 'default',
  ttlMs: 10_000,
  heartbeatMs: 3_000,
  commandTimeoutMs: 1_000,
  resyncMs: 10_000,
  discoveryTimeoutMs: 1_000,
  weight: 100,
  workers: 1,
});

const keys: ReadonlySet<string> = new Set([
  'url',
  'namespace',
  'ttlMs',
  'heartbeatMs',
  'commandTimeoutMs',
  'resyncMs',
  'discoveryTimeoutMs',
  'advertise',
  'weight',
  'zone',
  'workers',
]);

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new UsageError('GAW_ERR_INVALID_OPTION', `discovery.${name} must be an integer from ${min} to ${max}`);
  return value;
}

/** Checks a `discovery` option (a URL string or the bag) and fills in the defaults. */
export function resolveDiscovery(option: string | DiscoveryOptions, logger: Logger): ResolvedDiscovery {
  const bag: DiscoveryOptions = typeof option === 'string' ? { url: option } : option;
  checkOptionKeys(bag, keys, 'discovery options');
  const d = discoveryDefaults;
  const namespace = bag.namespace ?? d.namespace;
  if (!isServiceName(namespace) || namespace.length > 64)
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'discovery.namespace must be 1 to 64 of A-Z a-z 0-9 _ . -');
  const ttlMs = integer('ttlMs', bag.ttlMs ?? d.ttlMs, 100, 3_600_000);
  const heartbeatMs = integer('heartbeatMs', bag.heartbeatMs ?? d.heartbeatMs, 10, 3_600_000);
  if (heartbeatMs * 2 > ttlMs)
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `discovery.ttlMs (${ttlMs}) must be at least twice heartbeatMs (${heartbeatMs}), or one late beat reaps a live server`,
    );
  const zone = bag.zone;
  if (zone !== undefined && (typeof zone !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(zone)))
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'discovery.zone must be 1 to 64 visible ASCII characters');
  const weight = bag.weight ?? d.weight;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0 || weight > 1_000_000)
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'discovery.weight must be a number above 0 and at most 1000000');
  return {
    target: parseRedisUrl(bag.url),
    namespace,
    ttlMs,
    heartbeatMs,
    commandTimeoutMs: integer('commandTimeoutMs', bag.commandTimeoutMs ?? d.commandTimeoutMs, 10, 60_000),
    resyncMs: integer('resyncMs', bag.resyncMs ?? d.resyncMs, 50, 3_600_000),
    discoveryTimeoutMs: integer('discoveryTimeoutMs', bag.discoveryTimeoutMs ?? d.discoveryTimeoutMs, 10, 60_000),
    advertise: bag.advertise,
    weight,
    zone,
    workers: integer('workers', bag.workers ?? d.workers, 1, 4096),
    maxReconnectMs: Math.min(5000, heartbeatMs),
    logger,
  };
}
