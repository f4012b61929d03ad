// The HTTP flags `gaw <module>` (for its bridge) and `gaw bridge` share: the token, opening the
// bridge without one, body cap, Host and CORS allow-lists, the console and WebSocket. One
// definition, so the two commands cannot drift; each passes the help group it shows them in.
import { readBoolean, readInteger, readList } from './options.js';
import type { Argv } from './options.js';

export function httpFlags<G extends string>(group: G) {
  return {
    'http-token': {
      type: 'string',
      group,
      describe:
        'require Authorization: Bearer <token> (also visible in the process list: prefer --http-token-file or GAW_HTTP_TOKEN)',
    },
    'http-token-file': { type: 'string', group, describe: 'read the bearer token from this file' },
    'http-open': {
      type: 'boolean',
      group,
      describe: 'serve the bridge without a token even though the server has a secret',
    },
    'http-max-body-bytes': { type: 'string', group, describe: 'largest request body (default 1 MiB)' },
    'http-allowed-host': {
      type: 'string',
      group,
      describe: 'also accept this name in the Host header (repeat or comma-separate; .example.com for subdomains)',
    },
    'http-console': { type: 'boolean', group, describe: 'serve the service console at GET /' },
    'http-cors-origin': {
      type: 'string',
      group,
      describe: 'let pages of this web origin call /api cross-site (CORS; repeat or comma-separate; never *)',
    },
    'http-websocket': { type: 'boolean', group, describe: 'also take WebSockets on /api (needs ws)' },
  } as const;
}

/** What those flags set on an HTTP bridge's options, besides the token and opening it. */
export interface HttpFlagOptions {
  maxBodyBytes?: number;
  allowedHosts?: string[];
  corsOrigins?: string[];
  console?: boolean;
  websocket?: boolean;
}

export function readHttpFlags(argv: Argv): HttpFlagOptions {
  const maxBodyBytes = readInteger(argv, 'http-max-body-bytes', 1, 0x7fff_ffff);
  const allowedHosts = readList(argv, 'http-allowed-host');
  const corsOrigins = readList(argv, 'http-cors-origin');
  return {
    ...(maxBodyBytes !== undefined && { maxBodyBytes }),
    ...(allowedHosts !== undefined && { allowedHosts }),
    ...(corsOrigins !== undefined && { corsOrigins }),
    ...(readBoolean(argv, 'http-console') && { console: true }),
    ...(readBoolean(argv, 'http-websocket') && { websocket: true }),
  };
}
