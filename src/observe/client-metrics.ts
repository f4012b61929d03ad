// A client's metrics: the duration histogram and calls in flight through an interceptor (around the
// whole call, retries included), and the retries and endpoint ejections the client reports through
// hooks. One set per Registry and prefix, shared by the clients given the same Registry.
import type { ClientInterceptor } from './interceptors.js';
import { DurationHistogram, errorType } from './duration-histogram.js';
import { sharedMetrics } from './prom.js';
import type { MetricsRegistry, PromMetric, ResolvedMetrics } from './prom.js';

export class ClientMetrics {
  readonly registry: MetricsRegistry;
  readonly interceptor: ClientInterceptor;
  readonly #retries: PromMetric;
  readonly #ejections: PromMetric;

  constructor({ prom, registry, prefix }: ResolvedMetrics) {
    this.registry = registry;
    const registers = [registry];
    const histogram = new DurationHistogram(
      `${prefix}rpc_client_duration_seconds`,
      'Duration of outbound RPC calls, retries included (OpenTelemetry rpc.client.duration), in seconds',
      registry,
    );
    new prom.Gauge({
      name: `${prefix}rpc_client_active_requests`,
      help: 'Outbound RPC calls waiting for their reply now',
      labelNames: ['rpc_system', 'rpc_service', 'rpc_method'],
      registers,
      collect() {
        for (const series of histogram.methods()) this.set(series.baseLabels as Record<string, string>, series.active);
      },
    });
    this.#retries = new prom.Counter({
      name: `${prefix}gaw_client_retries_total`,
      help: 'Calls tried again, by the error type of the try that failed',
      labelNames: ['error_type'],
      registers,
    });
    this.#ejections = new prom.Counter({
      name: `${prefix}gaw_client_ejections_total`,
      help: 'Endpoints ejected from the balancer after consecutive failures',
      registers,
    });
    this.interceptor = (call, next) => {
      const series = histogram.method(call.service, call.method);
      series.active++;
      const startMs = call.startMs;
      return next().then(
        (value) => {
          series.active--;
          series.ok.observe((performance.now() - startMs) / 1000);
          return value;
        },
        (err: unknown) => {
          series.active--;
          series.failed(errorType(err)).observe((performance.now() - startMs) / 1000);
          throw err;
        },
      );
    };
  }

  /** The try that failed with `err` is tried again. */
  retried(err: unknown): void {
    this.#retries.inc({ error_type: errorType(err) });
  }

  ejected(): void {
    this.#ejections.inc();
  }
}

const shared = new WeakMap<MetricsRegistry, Map<string, ClientMetrics>>();

/** The client metrics of a `metrics` option (shared per Registry and prefix); undefined when off. */
export function clientMetrics(option: unknown): ClientMetrics | undefined {
  return sharedMetrics(shared, option, 'GawClient', (resolved) => new ClientMetrics(resolved));
}
