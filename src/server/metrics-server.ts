// A port of its own for GET /metrics, for a server without the HTTP bridge (`gaw <module>
// --metrics-port`): plain HTTP on loopback by default, the bridge's Host check and bearer token rule,
// nothing but /metrics. The route itself is http-metrics.ts's.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MetricsRegistry } from '../observe/index.js';
import { checkInteger } from '../postoffice/index.js';
import { HttpApi } from './http-handler.js';
import { MetricsEndpoint } from './http-metrics.js';
import { resolveHandlerOptions } from './http-options.js';

export interface MetricsServerOptions {
  /** The Registry to serve (`server.metrics`). */
  registry: MetricsRegistry;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port (read it from `address`). */
  port?: number;
  /** Required as `Authorization: Bearer <token>` when set. */
  token?: string;
  /** Names also accepted in the Host header (as for the bridge). */
  allowedHosts?: string[];
  logger?: Logger;
}

export class MetricsServer {
  readonly #server: Server;
  readonly #host: string;
  readonly #port: number;
  #closing: Promise<void> | undefined;

  constructor(options: MetricsServerOptions) {
    this.#host = options.host ?? '127.0.0.1';
    this.#port = checkInteger('port', options.port ?? 0, 0, 65535);
    const settings = resolveHandlerOptions(
      {
        dispatch: () => undefined,
        ...(options.token !== undefined && { token: options.token }),
        ...(options.allowedHosts !== undefined && { allowedHosts: options.allowedHosts }),
        ...(options.logger !== undefined && { logger: options.logger }),
      },
      this.#host,
      () => this.#closing !== undefined,
    );
    const api = new HttpApi(settings);
    const endpoint = new MetricsEndpoint(options.registry, settings, (...a) => api.refuse(...a));
    this.#server = createServer({ headersTimeout: 5_000, requestTimeout: 10_000 }, (req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/metrics') endpoint.handle(req, res, {});
      else api.refuse(req, res, 404, 'not found: the metrics are at GET /metrics');
    });
    this.#server.keepAliveTimeout = 5_000;
  }

  /** Resolves when listening; rejects with GAW_ERR_ADDRESS_IN_USE when the port is taken. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new UsageError('GAW_ERR_ADDRESS_IN_USE', `the metrics port ${this.#host}:${this.#port} is taken`, {
                cause: err,
              })
            : err,
        ),
      );
      this.#server.listen(this.#port, this.#host, () => resolve());
    });
  }

  get address(): AddressInfo {
    const address = this.#server.address();
    if (address === null || typeof address === 'string')
      throw new UsageError('GAW_ERR_CLOSED', 'the metrics server is not listening');
    return address;
  }

  /** Stops accepting and closes every connection (a scrape in progress is cut). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise((resolve) => {
      if (!this.#server.listening) {
        resolve();
        return;
      }
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }
}
