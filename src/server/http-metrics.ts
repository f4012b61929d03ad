// GET /metrics on the HTTP bridge: the server's prom-client Registry as Prometheus text, under the
// same Host check and bearer token rule as POST /api (no token needed only when the bridge has
// none: no secret, or `isOpen`). Knows nothing of the metrics themselves (src/observe does).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MetricsRegistry } from '../observe/index.js';
import { siteOf } from './http-hosts.js';
import type { HttpApiSettings } from './http-options.js';
import { isBearerAuthorized } from './http-rules.js';

export type Refuse = (
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  reason: string,
  headers?: Record<string, string>,
) => void;

export class MetricsEndpoint {
  readonly #registry: MetricsRegistry;
  readonly #settings: HttpApiSettings;
  readonly #refuse: Refuse;

  constructor(registry: MetricsRegistry, settings: HttpApiSettings, refuse: Refuse) {
    this.#registry = registry;
    this.#settings = settings;
    this.#refuse = refuse;
  }

  handle(req: IncomingMessage, res: ServerResponse, extraHeaders: Record<string, string>): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.#refuse(req, res, 405, 'use GET on /metrics', { Allow: 'GET, HEAD' });
      return;
    }
    const site = siteOf(req);
    const misdirected = this.#settings.hostPolicy.checkHost(site);
    if (misdirected !== undefined) {
      this.#refuse(req, res, 421, misdirected);
      return;
    }
    const { tokenHash } = this.#settings;
    if (tokenHash !== undefined && !isBearerAuthorized(req.headers.authorization, tokenHash)) {
      this.#settings.logger.warn({ peer: req.socket.remoteAddress }, 'http bridge: /metrics without the bearer token');
      this.#refuse(req, res, 401, 'a bearer token is required: send Authorization: Bearer <token>', {
        'WWW-Authenticate': 'Bearer',
      });
      return;
    }
    this.#registry.metrics().then(
      (text) => {
        if (res.destroyed) return;
        res.writeHead(200, {
          'Content-Type': this.#registry.contentType,
          'Content-Length': Buffer.byteLength(text),
          'Cache-Control': 'no-store',
          ...extraHeaders,
        });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        this.#settings.logger.error({ err }, 'http bridge: the metrics could not be collected');
        this.#refuse(req, res, 500, 'the metrics could not be collected');
      },
    );
  }
}
