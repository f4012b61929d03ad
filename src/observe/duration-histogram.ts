// The call duration histograms (rpc_server_duration_seconds, rpc_client_duration_seconds): counted
// in gaw's own arrays on the call path (two Map lookups, a bucket search and three additions per
// call, no label hashing), and read by prom-client as any metric at scrape time: this object is
// registered in the Registry and its get() answers in prom-client's metric shape, so text exposition,
// getMetricsAsJSON() and AggregatorRegistry sums work on it. Labels are bounded: a method the server
// does not host is `_OTHER`, and error types come from gaw's fixed code tables (errorType()).
import { errorCodes } from '../errors.js';
import { rpcErrorCodes } from '../jsonrpc/index.js';
import type { MetricsRegistry } from './prom.js';

/** Upper bounds in seconds: OpenTelemetry's RPC duration buckets, with three below 5 ms for calls on a LAN. */
export const durationBuckets: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);

const knownRpcCodes = new Set<number>(Object.values(rpcErrorCodes));
const other = '_OTHER';
/** Methods one histogram keeps apart; calls to others (a client calling names it makes up) count as `_OTHER`. */
export const maxMethods = 1000;

/**
 * The `error_type` label of a failed call: a JSON-RPC code gaw defines (`-32601`), a gaw error code
 * (`GAW_ERR_CALL_TIMEOUT`), else `_OTHER` (an application's own ServiceError codes included), so
 * the label takes a fixed set of values. `thrownCode` is what a non-coded throw is answered with.
 */
export function errorType(err: unknown, thrownCode?: number): string {
  if (typeof err === 'object' && err !== null) {
    const rpcCode = (err as { rpcCode?: unknown }).rpcCode;
    if (typeof rpcCode === 'number') return knownRpcCodes.has(rpcCode) ? String(rpcCode) : other;
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && Object.hasOwn(errorCodes, code) && code !== 'GAW_ERR_SERVICE') return code;
  }
  return thrownCode === undefined ? other : String(thrownCode);
}

/** One label set's counts: one per bucket (not cumulative), then the sum and the count. */
class Series {
  readonly labels: Readonly<Record<string, string>>;
  readonly counts = new Float64Array(durationBuckets.length);
  sum = 0;
  count = 0;

  constructor(labels: Record<string, string>) {
    this.labels = Object.freeze(labels);
  }

  observe(seconds: number): void {
    let i = 0;
    while (i < durationBuckets.length && seconds > durationBuckets[i]!) i++;
    if (i < durationBuckets.length) this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/** One method's series: ok, one per error type, and its calls in flight. */
export class MethodSeries {
  readonly #histogram: DurationHistogram;
  readonly #base: Record<string, string>;
  readonly ok: Series;
  readonly #errors = new Map<string, Series>();
  active = 0;

  constructor(histogram: DurationHistogram, base: Record<string, string>) {
    this.#histogram = histogram;
    this.#base = base;
    this.ok = histogram.series({ ...base, outcome: 'ok' });
  }

  get baseLabels(): Readonly<Record<string, string>> {
    return this.#base;
  }

  failed(type: string): Series {
    let series = this.#errors.get(type);
    if (series === undefined) {
      series = this.#histogram.series({ ...this.#base, outcome: 'error', error_type: type });
      this.#errors.set(type, series);
    }
    return series;
  }
}

export class DurationHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series: Series[] = [];
  /** service → method → its series. */
  readonly #methods = new Map<string, Map<string, MethodSeries>>();
  #methodCount = 0;

  constructor(name: string, help: string, registry: MetricsRegistry) {
    this.name = name;
    this.help = help;
    registry.registerMetric(this as never);
  }

  /** The series of `service`.`method` (made on first use). */
  method(service: string, method: string): MethodSeries {
    return this.#methods.get(service)?.get(method) ?? this.#add(service, method);
  }

  #add(service: string, method: string): MethodSeries {
    if (this.#methodCount >= maxMethods && (service !== other || method !== other)) return this.method(other, other);
    let byMethod = this.#methods.get(service);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.#methods.set(service, byMethod);
    }
    this.#methodCount++;
    const series = new MethodSeries(this, { rpc_system: 'jsonrpc', rpc_service: service, rpc_method: method });
    byMethod.set(method, series);
    return series;
  }

  /** Every method's series, for the calls-in-flight gauge. */
  *methods(): Iterable<MethodSeries> {
    for (const byMethod of this.#methods.values()) yield* byMethod.values();
  }

  series(labels: Record<string, string>): Series {
    const series = new Series(labels);
    this.#series.push(series);
    return series;
  }

  /** prom-client's metric shape: cumulative `_bucket` lines per `le`, then `_sum` and `_count`. */
  get(): { name: string; help: string; type: string; aggregator: string; values: object[] } {
    const values: object[] = [];
    for (const series of this.#series) {
      if (series.count === 0) continue;
      let cumulative = 0;
      durationBuckets.forEach((le, i) => {
        cumulative += series.counts[i]!;
        values.push({ value: cumulative, metricName: `${this.name}_bucket`, labels: { ...series.labels, le } });
      });
      values.push({ value: series.count, metricName: `${this.name}_bucket`, labels: { ...series.labels, le: '+Inf' } });
      values.push({ value: series.sum, metricName: `${this.name}_sum`, labels: series.labels });
      values.push({ value: series.count, metricName: `${this.name}_count`, labels: series.labels });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** prom-client's Registry.resetMetrics(). */
  reset(): void {
    for (const series of this.#series) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
