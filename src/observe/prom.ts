// prom-client, the optional peer dependency metrics are exposed through: loaded (synchronously,
// with require) only when a `metrics` option is given, with a clear error naming the package when it
// is not installed; and the `metrics` option checked. The types here are the few parts of its API
// gaw uses, so gaw's own types need no prom-client to compile against.
import { createRequire } from 'node:module';
import { UsageError } from '../errors.js';

/** A prom-client Registry (`new Registry()`, `register`, or an `AggregatorRegistry`). */
export interface MetricsRegistry {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
  metrics(): Promise<string>;
  getMetricsAsJSON(): Promise<unknown[]>;
  readonly contentType: string;
}

/** `metrics: true` (a Registry of the server's or client's own), or the user's Registry and a name prefix. */
export type MetricsOption = boolean | { registry?: MetricsRegistry; prefix?: string };

interface MetricConfig {
  name: string;
  help: string;
  labelNames?: readonly string[];
  registers: readonly MetricsRegistry[];
  collect?: (this: PromMetric) => void;
}

export interface PromMetric {
  inc(labels: Record<string, string>, value?: number): void;
  inc(value?: number): void;
  set(labels: Record<string, string>, value: number): void;
  set(value: number): void;
  reset(): void;
}

export interface PromClient {
  Registry: new () => MetricsRegistry;
  Counter: new (config: MetricConfig) => PromMetric;
  Gauge: new (config: MetricConfig) => PromMetric;
  AggregatorRegistry: { aggregate(metrics: unknown[][]): MetricsRegistry };
}

let loaded: PromClient | undefined;

/** prom-client, required on first use; GAW_ERR_MISSING_DEPENDENCY naming it when it is not installed. */
export function loadPromClient(): PromClient {
  if (loaded !== undefined) return loaded;
  try {
    loaded = createRequire(import.meta.url)('prom-client') as PromClient;
  } catch (err) {
    throw new UsageError(
      'GAW_ERR_MISSING_DEPENDENCY',
      'metrics need the package prom-client: npm install prom-client',
      {
        cause: err,
      },
    );
  }
  return loaded;
}

export interface ResolvedMetrics {
  prom: PromClient;
  registry: MetricsRegistry;
  prefix: string;
}

/** Checks a `metrics` option; undefined when metrics are off (false or absent). Loads prom-client. */
export function resolveMetricsOption(option: unknown, where: string): ResolvedMetrics | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null || Array.isArray(option)))
    throw new UsageError('GAW_ERR_INVALID_OPTION', `${where} metrics must be true or { registry?, prefix? }`);
  const { registry, prefix, ...rest } = option === true ? {} : (option as { registry?: unknown; prefix?: unknown });
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined)
    throw new UsageError('GAW_ERR_INVALID_OPTION', `${where} metrics has no option ${JSON.stringify(unknown)}`);
  if (prefix !== undefined && (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)))
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `${where} metrics.prefix must be a Prometheus name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)`,
    );
  if (
    registry !== undefined &&
    (typeof registry !== 'object' ||
      registry === null ||
      typeof (registry as MetricsRegistry).registerMetric !== 'function' ||
      typeof (registry as MetricsRegistry).metrics !== 'function')
  )
    throw new UsageError('GAW_ERR_INVALID_OPTION', `${where} metrics.registry must be a prom-client Registry`);
  const prom = loadPromClient();
  return { prom, registry: (registry as MetricsRegistry | undefined) ?? new prom.Registry(), prefix: prefix ?? '' };
}

/**
 * The metrics object of a `metrics` option, one per Registry and prefix (servers or clients given
 * the same Registry add to the same series); undefined when metrics are off.
 */
export function sharedMetrics<T>(
  cache: WeakMap<MetricsRegistry, Map<string, T>>,
  option: unknown,
  where: string,
  make: (resolved: ResolvedMetrics) => T,
): T | undefined {
  const resolved = resolveMetricsOption(option, where);
  if (resolved === undefined) return undefined;
  let byPrefix = cache.get(resolved.registry);
  if (byPrefix === undefined) {
    byPrefix = new Map();
    cache.set(resolved.registry, byPrefix);
  }
  let metrics = byPrefix.get(resolved.prefix);
  if (metrics === undefined) {
    metrics = make(resolved);
    byPrefix.set(resolved.prefix, metrics);
  }
  return metrics;
}
