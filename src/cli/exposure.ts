// Who can call a server the CLI starts: a listener without a secret (or a bridge without a token)
// lets anyone who can connect call every method. On a loopback address that is every local user,
// and the CLI warns at start; on any other address it refuses unless --insecure asks for it.
// Knows nothing of servers: serve.ts and bridge.ts describe their listeners to it.
import { isIP } from 'node:net';
import { type GawServerOptions, serverDefaults } from '../server/index.js';
import { usage } from './options.js';

export const exposureOptions = {
  insecure: {
    type: 'boolean',
    group: 'Security:',
    describe:
      'serve without a secret (or the HTTP bridge without a token) on an address other than loopback: anyone who can reach it can call every method',
  },
} as const;

/** One listener as the refusal and the warning describe it. */
export interface Exposure {
  /** e.g. 'the server', 'the HTTP bridge', 'the legacy listener'. */
  readonly what: string;
  readonly host: string;
  readonly port: number;
  /** What it lacks, e.g. 'a secret' or 'a bearer token'. */
  readonly lacks: string;
  /** How to give it, for the message. */
  readonly remedy: string;
  /** True when another flag already said to serve it open (--http-open). */
  readonly isOpenByChoice?: boolean;
}

/** 127.0.0.0/8, ::1, ::ffff:127.x.y.z and localhost. Anything else (0.0.0.0, ::, a name) may be reachable from elsewhere. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const lower = bare.toLowerCase();
  if (lower === 'localhost' || lower.endsWith('.localhost')) return true;
  if (isIP(lower) === 4) return lower.startsWith('127.');
  if (isIP(lower) !== 6) return false;
  const canonical = new URL(`http://[${lower}]/`).hostname; // [::1], [::ffff:7f00:1]
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}

/** The listeners of a GawServer's options that need no secret or token; `bound` gives the ports actually bound. */
export function serverExposures(
  options: GawServerOptions,
  bound: { port?: number; httpPort?: number | undefined; legacyPort?: number | undefined } = {},
): Exposure[] {
  const found: Exposure[] = [];
  const secretRemedy = '`gaw keygen > secret`, then --secret-file secret or GAW_SECRET_FILE';
  if (options.secret === undefined) {
    const port = bound.port ?? options.port ?? serverDefaults.port;
    found.push({
      what: 'the server',
      host: options.host ?? '127.0.0.1',
      port,
      lacks: 'a secret',
      remedy: secretRemedy,
    });
    if (options.legacy !== undefined) {
      const { host = '127.0.0.1', port: legacyPort } = options.legacy;
      const at = bound.legacyPort ?? legacyPort ?? 0;
      found.push({ what: 'the legacy listener', host, port: at, lacks: 'a secret', remedy: secretRemedy });
    }
  }
  const http = options.http;
  if (http !== undefined && http.token === undefined) {
    found.push({
      what: 'the HTTP bridge',
      host: http.host ?? '127.0.0.1',
      port: bound.httpPort ?? http.port ?? 0,
      lacks: 'a bearer token',
      remedy: '--http-token-file or GAW_HTTP_TOKEN',
      isOpenByChoice: http.isOpen === true,
    });
  }
  return found;
}

function endpoint(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Throws a usage error for the first unauthenticated listener on a non-loopback address unless
 * `isInsecure` (or, for that listener, its own open-by-choice flag) allows it.
 */
export function refuseExposure(exposures: readonly Exposure[], isInsecure: boolean): void {
  if (isInsecure) return;
  for (const e of exposures) {
    if (e.isOpenByChoice === true || isLoopbackHost(e.host)) continue;
    throw usage(
      `refusing to listen on ${endpoint(e.host, e.port)} without ${e.lacks} (${e.what}): anyone who can reach that address could call every method. ` +
        `Give ${e.lacks} (${e.remedy}), listen on 127.0.0.1, or pass --insecure (GAW_INSECURE=1) to serve it anyway`,
    );
  }
}

/** The start-up warning for listeners nobody has to authenticate to, or undefined when there are none. */
export function exposureWarning(exposures: readonly Exposure[]): { fields: object; message: string } | undefined {
  if (exposures.length === 0) return undefined;
  const unauthenticated = exposures.map(
    (e) => `${e.what} on ${endpoint(e.host, e.port)} (no ${e.lacks.replace(/^an? /, '')})`,
  );
  const where = exposures.every((e) => isLoopbackHost(e.host)) ? ' (on loopback: every local user and program)' : '';
  const advice = exposures.some((e) => e.lacks === 'a secret')
    ? 'make a secret with `gaw keygen` and pass it with --secret-file'
    : 'give it a token with --http-token-file';
  return {
    fields: { unauthenticated },
    message: `no authentication: anyone who can connect can call every method${where}; ${advice}`,
  };
}
