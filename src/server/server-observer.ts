// What GawServer tells its metrics (the `metrics` option) where interceptors cannot see: the
// listener's handshakes (accepted, rejected, failed, with the reason), each connection's close
// (frames refused) and bytes, and, read at scrape time, its connections by state. Made only when
// the option is on: a server without metrics has none of these listeners.
import { rpcErrorCodes } from '../jsonrpc/index.js';
import { serverMetrics } from '../observe/index.js';
import type { MetricsRegistry, ServerInterceptor, ServerMetrics } from '../observe/index.js';
import type { Connection, Listener } from '../postoffice/index.js';
import type { ServedConnection } from './served-connection.js';

export class ServerObserver {
  readonly #metrics: ServerMetrics;
  readonly #connections: ReadonlySet<ServedConnection>;
  #listener: Listener | undefined;
  /** Bytes of connections already closed. */
  #closedBytes = { received: 0, sent: 0 };

  /** The observer of a `metrics` option, or undefined when metrics are off. */
  static of(option: unknown, connections: ReadonlySet<ServedConnection>): ServerObserver | undefined {
    const metrics = serverMetrics(option);
    return metrics === undefined ? undefined : new ServerObserver(metrics, connections);
  }

  private constructor(metrics: ServerMetrics, connections: ReadonlySet<ServedConnection>) {
    this.#metrics = metrics;
    this.#connections = connections;
    metrics.addSource({
      connections: () => {
        let draining = 0;
        for (const { connection } of this.#connections) if (connection.isDraining) draining++;
        return {
          handshaking: this.#listener?.unauthenticatedCount ?? 0,
          open: this.#connections.size - draining,
          draining,
        };
      },
      bytes: () => {
        let { received, sent } = this.#closedBytes;
        for (const { connection } of this.#connections) {
          received += connection.bytesReceived;
          sent += connection.bytesSent;
        }
        return { received, sent };
      },
    });
  }

  get registry(): MetricsRegistry {
    return this.#metrics.registry;
  }

  get interceptor(): ServerInterceptor {
    return this.#metrics.interceptor;
  }

  get metrics(): ServerMetrics {
    return this.#metrics;
  }

  /** A message refused unrun (served-connection.ts): -32001 shutting down, -32002 overloaded. */
  readonly onRefused = (code: number): void =>
    this.#metrics.requestRefused(code === rpcErrorCodes.OVERLOADED ? 'overloaded' : 'shutting_down');

  watch(listener: Listener): void {
    this.#listener = listener;
    listener.on('connection', () => this.#metrics.handshakeAccepted());
    listener.on('handshakeRejected', ({ reason }) => this.#metrics.handshakeRejected(reason));
    listener.on('authFailure', ({ reason }) => this.#metrics.handshakeFailed(reason));
  }

  attach(connection: Connection): void {
    connection.once('close', (err) => {
      this.#closedBytes = {
        received: this.#closedBytes.received + connection.bytesReceived,
        sent: this.#closedBytes.sent + connection.bytesSent,
      };
      this.#metrics.connectionClosed(err?.code);
    });
  }
}
