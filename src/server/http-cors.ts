// CORS for POST /api, free of sockets: the explicit list of web origins whose pages may call the
// bridge cross-site and read its replies (never `*`), the headers their responses carry, and the
// answer to a browser's preflight OPTIONS. Origins not on the list get no CORS headers at all, and
// the Origin check in http-hosts.ts refuses their requests with 403. http-handler.ts applies it.
import { UsageError } from '../errors.js';
import { normalizeOrigin } from './http-hosts.js';

/** The request headers a page may send (the browser asks in Access-Control-Request-Headers). */
export const corsRequestHeaders: readonly string[] = Object.freeze([
  'authorization',
  'content-type',
  'traceparent',
  'tracestate',
  'gaw-timeout-ms',
  'x-request-id',
]);

/** Response headers a page may read beyond the CORS-safelisted ones. */
const exposedHeaders = 'X-Request-Id, Retry-After, WWW-Authenticate';

/** How long a browser may cache a preflight answer (Chromium caps it at 2 hours). */
export const corsMaxAgeS = 600;

const allowedRequestHeaders = new Set(corsRequestHeaders);

/** A preflight's outcome: the headers of a 204, or why it is refused (403). */
export type PreflightAnswer = { headers: Record<string, string> } | { refusal: string };

export class CorsPolicy {
  readonly #origins: ReadonlySet<string>;

  /** `entries` are origins such as `https://app.example.com`; `*` is refused, naming the reason. */
  constructor(entries: readonly string[] | undefined) {
    if (entries !== undefined && !Array.isArray(entries))
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'corsOrigins must be an array of origins');
    this.#origins = new Set(
      (entries ?? []).map((entry: unknown) => {
        if (entry === '*' || entry === 'null') {
          throw new UsageError(
            'GAW_ERR_INVALID_OPTION',
            `corsOrigins cannot be ${JSON.stringify(entry)}: list each origin allowed to call (https://app.example.com)`,
          );
        }
        const origin = typeof entry === 'string' ? normalizeOrigin(entry) : undefined;
        if (origin === undefined) {
          throw new UsageError(
            'GAW_ERR_INVALID_OPTION',
            `corsOrigins entry ${JSON.stringify(String(entry).slice(0, 80))} is not an origin such as https://app.example.com`,
          );
        }
        return origin;
      }),
    );
  }

  /** The origins as given, normalized (so the Origin check lets them through). */
  get origins(): readonly string[] {
    return [...this.#origins];
  }

  get isEnabled(): boolean {
    return this.#origins.size > 0;
  }

  /**
   * The CORS headers of a response to a request whose `Origin` is `origin`: the origin echoed
   * (never `*`) when it is on the list, and `Vary: Origin` whenever CORS is on, so a cache never
   * hands one origin's answer to another.
   */
  responseHeaders(origin: string | undefined): Record<string, string> | undefined {
    if (!this.isEnabled) return undefined;
    const normalized = origin === undefined ? undefined : normalizeOrigin(origin);
    if (normalized === undefined || !this.#origins.has(normalized)) return { Vary: 'Origin' };
    return { 'Access-Control-Allow-Origin': origin!, 'Access-Control-Expose-Headers': exposedHeaders, Vary: 'Origin' };
  }

  /** The answer to `OPTIONS /api` with `Access-Control-Request-Method` (a preflight). */
  preflight(origin: string | undefined, method: string, requestHeaders: string | undefined): PreflightAnswer {
    const normalized = origin === undefined ? undefined : normalizeOrigin(origin);
    if (normalized === undefined || !this.#origins.has(normalized)) {
      const shown = JSON.stringify((origin ?? '(none)').slice(0, 80));
      return {
        refusal: `the web origin ${shown} may not call cross-site: add it with --http-cors-origin if it should`,
      };
    }
    if (method.trim() !== 'POST')
      return { refusal: `only POST is allowed on /api, not ${JSON.stringify(method.slice(0, 20))}` };
    for (const name of (requestHeaders ?? '').split(',')) {
      const header = name.trim().toLowerCase();
      if (header !== '' && !allowedRequestHeaders.has(header))
        return { refusal: `the request header ${JSON.stringify(header.slice(0, 60))} is not allowed` };
    }
    return {
      headers: {
        'Access-Control-Allow-Origin': origin!,
        'Access-Control-Allow-Methods': 'POST',
        'Access-Control-Allow-Headers': corsRequestHeaders.join(', '),
        'Access-Control-Max-Age': String(corsMaxAgeS),
        Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      },
    };
  }
}
