// Endpoints: `host:port`, `[v6]:port` or `{ host, port }` strings and objects, validated, and the
// endpoint list a client option bag (or setEndpoints) names.
import { UsageError } from '../errors.js';
import { checkInteger } from '../postoffice/index.js';
import type { Endpoint } from './pool.js';

/** `host:port`, `[v6]:port` or `{ host, port, weight? }`, validated; weight defaults to 1. */
export function parseEndpoint(value: string | Endpoint): Endpoint {
  if (typeof value === 'object' && value !== null) {
    const port = checkInteger('port', value.port, 1, 65_535);
    const { weight = 1 } = value;
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0 || weight > 1_000_000)
      throw new UsageError('GAW_ERR_INVALID_OPTION', `endpoint weight must be a number above 0 and at most 1000000`);
    return { host: String(value.host), port, weight };
  }
  const match = typeof value === 'string' ? /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value) : null;
  if (!match) throw new UsageError('GAW_ERR_INVALID_OPTION', `endpoint ${JSON.stringify(value)} is not host:port`);
  return { host: match[1] ?? match[2]!, port: checkInteger('port', Number(match[3]), 1, 65_535), weight: 1 };
}

export function parseEndpoints(options: {
  host?: string;
  port?: number;
  endpoints?: readonly (string | Endpoint)[];
}): Endpoint[] {
  if (options.endpoints !== undefined) {
    if (!Array.isArray(options.endpoints))
      throw new UsageError(
        'GAW_ERR_INVALID_OPTION',
        'endpoints must be an array of host:port strings or { host, port } objects',
      );
    if (options.endpoints.length === 0)
      throw new UsageError('GAW_ERR_INVALID_OPTION', 'endpoints must list at least one host:port');
    return options.endpoints.map(parseEndpoint);
  }
  return [parseEndpoint({ host: options.host ?? '127.0.0.1', port: options.port ?? 5555 })];
}
