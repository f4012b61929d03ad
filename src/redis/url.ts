// Redis URLs: `redis://`, `rediss://` (TLS), `redis+unix:///path` and `unix:///path`, each with an
// optional `user:password@`, a database number (`/2` for TCP, `?db=2` for sockets) and nothing
// else. The parsed target never shows its password: `label` is the form that goes to logs and
// error messages. Knows nothing of node-redis (connect.ts turns a target into a client).
import { UsageError } from '../errors.js';

export interface RedisTarget {
  /** The URL without its password (`redis://user:***@host:6379/0`): safe to log. */
  readonly label: string;
  /** A unix socket path, or undefined for TCP. */
  readonly path: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly isTls: boolean;
  /** The database number (SELECT), 0 by default. */
  readonly database: number;
  readonly username: string | undefined;
  /** Never logged, never part of `label`. */
  readonly password: string | undefined;
}

const maxUrlLength = 4096;
const maxDatabase = 1_000_000;

function invalid(label: string, why: string): UsageError {
  return new UsageError('GAW_ERR_INVALID_OPTION', `registry URL ${label} is not usable: ${why}`);
}

/** A URL for messages: the scheme and host part with any password replaced by `***`. */
function redacted(raw: string): string {
  const shown = raw.length > 200 ? `${raw.slice(0, 200)}...` : raw;
  // user:password@ -> user:***@ ; the password may contain anything but '@' before the host.
  return JSON.stringify(shown.replace(/^([a-z+]+:\/\/[^:/@]*):[^@]*@/i, '$1:***@'));
}

function parseDatabase(text: string, label: string): number {
  if (!/^\d{1,7}$/.test(text) || Number(text) > maxDatabase)
    throw invalid(label, `database ${JSON.stringify(text)} is not a number`);
  return Number(text);
}

function decode(part: string, label: string): string | undefined {
  if (part === '') return undefined;
  try {
    return decodeURIComponent(part);
  } catch {
    throw invalid(label, 'bad percent-encoding in the user or password');
  }
}

function authLabel(rawUser: string, password: string | undefined): string {
  if (rawUser === '' && password === undefined) return '';
  return `${rawUser}${password === undefined ? '' : ':***'}@`;
}

function parseUnix(match: RegExpExecArray, shown: string): RedisTarget {
  const scheme = match[1]!.toLowerCase();
  const [rawUser = '', rawPassword] = (match[2] ?? '').split(/:(.*)/s, 2);
  const username = decode(rawUser, shown);
  const password = rawPassword === undefined ? undefined : decode(rawPassword, shown);
  const path = decode(match[3]!, shown) ?? '';
  if (!path.startsWith('/') || path.length < 2)
    throw invalid(shown, `a unix socket URL has no host and an absolute path (write ${scheme}:///path)`);
  let database = 0;
  for (const [key, value] of new URLSearchParams(match[4] ?? '')) {
    if (key !== 'db') throw invalid(shown, `unknown parameter ${JSON.stringify(key)} (only db)`);
    database = parseDatabase(value, shown);
  }
  const label = `${scheme}://${authLabel(rawUser, password)}${path}${database === 0 ? '' : `?db=${database}`}`;
  return { label, path, host: '', port: 0, isTls: false, database, username, password };
}

/**
 * Parses a registry URL; throws a UsageError (GAW_ERR_INVALID_OPTION) naming what is wrong, with
 * the password never in the message.
 */
export function parseRedisUrl(raw: unknown): RedisTarget {
  if (typeof raw !== 'string' || raw.length === 0)
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'the registry must be a redis://, rediss:// or redis+unix:// URL');
  const shown = redacted(raw);
  if (raw.length > maxUrlLength) throw invalid(shown, `longer than ${maxUrlLength} characters`);
  const unix = /^(redis\+unix|unix):\/\/(?:([^@/]*)@)?([^?#]*)(?:\?([^#]*))?$/i.exec(raw);
  if (unix !== null) return parseUnix(unix, shown);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(shown, 'not a URL (expected redis://host:port/db, rediss://... or redis+unix:///path)');
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const username = decode(url.username, shown);
  const password = decode(url.password, shown);
  const auth = authLabel(url.username, password);
  if (scheme !== 'redis' && scheme !== 'rediss')
    throw invalid(shown, `scheme ${JSON.stringify(scheme)} is not redis, rediss, redis+unix or unix`);
  if (url.hostname === '') throw invalid(shown, 'no host');
  if (url.search !== '' || url.hash !== '') throw invalid(shown, 'no query or fragment is understood');
  const port = url.port === '' ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\//, '');
  const database = dbText === '' ? 0 : parseDatabase(dbText, shown);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const label = `${scheme}://${auth}${url.host}${url.port === '' ? ':6379' : ''}/${database}`;
  return { label, path: undefined, host, port, isTls: scheme === 'rediss', database, username, password };
}
