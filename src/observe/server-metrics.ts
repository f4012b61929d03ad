// A server's metrics: the duration histogram and calls in flight through an interceptor, and what
// an interceptor cannot see through hooks the server calls (handshakes by result and reason, frames
// refused by reason) or reads at scrape time (connections by state, bytes in and out). One set per
// Registry and prefix: servers sharing a Registry add to the same series (their gauges are summed).
// Knows nothing of the server: it gives its numbers through a ServerMetricsSource.
import type { ServerInterceptor } from './interceptors.js';
import { DurationHistogram, errorType } from './duration-histogram.js';
import type { MethodSeries } from './duration-histogram.js';
import { sharedMetrics } from './prom.js';
import type { MetricsRegistry, PromMetric, ResolvedMetrics } from './prom.js';

/** What a server reports at scrape time. */
export interface ServerMetricsSource {
  connections(): { handshaking: number; open: number; draining: number };
  /** Bytes read and written on the server's sockets so far (its closed connections included). */
  bytes(): { received: number; sent: number };
}

/** `handshake timeout` and the other reasons the listener fails a handshake with, as label values. */
const failureReasons: readonly [RegExp, string][] = [
  [/^not a GAWP hello/, 'not_gawp'],
  [/^handshake timeout/, 'timeout'],
  [/X25519/, 'bad_key'],
  [/client left/, 'client_left'],
  [/confirm/, 'wrong_confirm'],
];
const rejectReasons: Readonly<Record<string, string>> = {
  version: 'version',
  suite: 'suite',
  codec: 'codec',
  keyId: 'key_id',
  busy: 'busy',
  flags: 'flags',
};
/** The protocol errors a connection is closed with for a frame it refused. */
const frameReasons: Readonly<Record<string, string>> = {
  GAW_ERR_FRAME_TOO_LARGE: 'frame_too_large',
  GAW_ERR_BAD_FRAME: 'bad_frame',
  GAW_ERR_AUTH_FAILED: 'auth_failed',
  GAW_ERR_FRAME_TIMEOUT: 'frame_timeout',
  GAW_ERR_SEQ_EXHAUSTED: 'seq_exhausted',
  GAW_ERR_DECODE: 'undecodable',
};
/** What a thrown non-ServiceError is answered with (-32000). */
const serverErrorCode = -32000;

export class ServerMetrics {
  readonly registry: MetricsRegistry;
  readonly interceptor: ServerInterceptor;
  readonly #sources = new Set<ServerMetricsSource>();
  readonly #handshakes: PromMetric;
  readonly #framesRefused: PromMetric;
  readonly #refused: PromMetric;

  constructor({ prom, registry, prefix }: ResolvedMetrics) {
    this.registry = registry;
    const registers = [registry];
    const histogram = new DurationHistogram(
      `${prefix}rpc_server_duration_seconds`,
      'Duration of inbound RPC calls (OpenTelemetry rpc.server.duration), in seconds',
      registry,
    );
    const sources = this.#sources;
    const sum = (pick: (source: ServerMetricsSource) => number) => {
      let total = 0;
      for (const source of sources) total += pick(source);
      return total;
    };
    new prom.Gauge({
      name: `${prefix}rpc_server_active_requests`,
      help: 'Inbound RPC calls running now',
      labelNames: ['rpc_system', 'rpc_service', 'rpc_method'],
      registers,
      collect() {
        for (const series of histogram.methods()) this.set(series.baseLabels as Record<string, string>, series.active);
      },
    });
    new prom.Gauge({
      name: `${prefix}gaw_server_connections`,
      help: 'GAWP connections by state: handshaking (not yet authenticated), open, draining (CLOSE sent or received)',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = [...sources].map((source) => source.connections());
        for (const state of ['handshaking', 'open', 'draining'] as const)
          this.set(
            { state },
            counts.reduce((total, c) => total + c[state], 0),
          );
      },
    });
    for (const [direction, pick] of [
      ['received', (s: ServerMetricsSource) => s.bytes().received],
      ['sent', (s: ServerMetricsSource) => s.bytes().sent],
    ] as const) {
      new prom.Counter({
        name: `${prefix}gaw_server_${direction}_bytes_total`,
        help: `Bytes ${direction} on GAWP connections (handshakes and frames)`,
        registers,
        collect() {
          this.reset();
          this.inc(sum(pick));
        },
      });
    }
    this.#handshakes = new prom.Counter({
      name: `${prefix}gaw_server_handshakes_total`,
      help: 'GAWP handshakes by result (accepted, rejected, failed) and reason',
      labelNames: ['result', 'reason'],
      registers,
    });
    this.#framesRefused = new prom.Counter({
      name: `${prefix}gaw_server_frames_refused_total`,
      help: 'Frames refused (the connection closed) by reason',
      labelNames: ['reason'],
      registers,
    });
    this.#refused = new prom.Counter({
      name: `${prefix}gaw_server_requests_refused_total`,
      help: 'Requests answered without being run: overloaded (-32002) or shutting_down (-32001)',
      labelNames: ['reason'],
      registers,
    });
    this.interceptor = (call, next) => {
      const series = histogram.method(call.service, call.method);
      series.active++;
      const startMs = call.receivedAtMs === 0 ? performance.now() : call.receivedAtMs;
      let result: unknown;
      try {
        result = next();
      } catch (err) {
        failed(series, startMs, err);
        throw err;
      }
      if (typeof (result as { then?: unknown } | null)?.then === 'function')
        return (result as Promise<unknown>).then(
          (value) => {
            succeeded(series, startMs);
            return value;
          },
          (err: unknown) => {
            failed(series, startMs, err);
            throw err;
          },
        );
      succeeded(series, startMs);
      return result;
    };
  }

  /** Adds a server's connection and byte counts to the gauges; returns the function that removes them. */
  addSource(source: ServerMetricsSource): () => void {
    this.#sources.add(source);
    return () => this.#sources.delete(source);
  }

  handshakeAccepted(): void {
    this.#handshakes.inc({ result: 'accepted', reason: '' });
  }

  handshakeRejected(reason: string): void {
    this.#handshakes.inc({ result: 'rejected', reason: rejectReasons[reason] ?? 'other' });
  }

  handshakeFailed(reason: string): void {
    const found = failureReasons.find(([pattern]) => pattern.test(reason));
    this.#handshakes.inc({ result: 'failed', reason: found?.[1] ?? 'other' });
  }

  /** A connection closed with `code`: counted when it is a frame refused. */
  connectionClosed(code: string | undefined): void {
    const reason = code === undefined ? undefined : frameReasons[code];
    if (reason !== undefined) this.#framesRefused.inc({ reason });
  }

  requestRefused(reason: 'overloaded' | 'shutting_down'): void {
    this.#refused.inc({ reason });
  }
}

function succeeded(series: MethodSeries, startMs: number): void {
  series.active--;
  series.ok.observe((performance.now() - startMs) / 1000);
}

function failed(series: MethodSeries, startMs: number, err: unknown): void {
  series.active--;
  series.failed(errorType(err, serverErrorCode)).observe((performance.now() - startMs) / 1000);
}

const shared = new WeakMap<MetricsRegistry, Map<string, ServerMetrics>>();

/** The server metrics of a `metrics` option (shared per Registry and prefix); undefined when off. */
export function serverMetrics(option: unknown): ServerMetrics | undefined {
  return sharedMetrics(shared, option, 'GawServer', (resolved) => new ServerMetrics(resolved));
}
