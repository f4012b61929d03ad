// The CLI's shared option definitions (connection security, limits, logging) and the readers that
// validate what yargs parsed: integers, JSON documents, secrets from a flag, a file or the
// environment, and call targets. The only place besides main.ts that looks at argv or env.
// Knows nothing of serving or calling; each command file uses these.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { UsageError } from '../errors.js';
import { parseSecret } from '../postoffice/index.js';
import { optionLabel } from './env-options.js';

export type Argv = Readonly<Record<string, unknown>>;
export type Env = Readonly<Record<string, string | undefined>>;

/** Exit codes of every command. */
export const exitCodes = { ok: 0, failure: 1, usage: 2 } as const;

const maxSecretFileBytes = 4096;

export function usage(message: string): UsageError {
  return new UsageError('GAW_ERR_INVALID_OPTION', message);
}

/** Options that choose the GAWP/1 suite and codec, shared by every command that dials or listens. */
export const securityOptions = {
  secret: {
    type: 'string',
    group: 'Security:',
    describe:
      'base64 secret (16, 24 or 32 bytes; see `gaw keygen`). Visible to other local users in the process list: prefer --secret-file or GAW_SECRET',
  },
  'secret-file': {
    type: 'string',
    group: 'Security:',
    describe: 'read the secret from this file (surrounding whitespace is ignored)',
  },
  encrypt: {
    type: 'boolean',
    group: 'Security:',
    describe: 'encrypt (suite cbc) rather than only sign (suite sign); needs a secret',
  },
  suite: {
    type: 'string',
    group: 'Security:',
    choices: ['none', 'sign', 'cbc', 'secretbox'],
    describe: 'choose the suite outright (must agree with the secret)',
  },
} as const;

export const logOptions = {
  'log-level': {
    type: 'string',
    group: 'Logging:',
    choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    defaultDescription: 'info',
    describe: 'debug shows each call',
  },
  'log-format': {
    type: 'string',
    group: 'Logging:',
    choices: ['auto', 'json', 'pretty'],
    defaultDescription: 'auto',
    describe: 'auto: JSON lines, readable when stdout is a terminal',
  },
} as const;

export function readString(argv: Argv, name: string): string | undefined {
  const value = argv[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw usage(`--${name} was given more than once`);
  if (typeof value !== 'string') return String(value);
  return value;
}

/** A list option: repeated flags and comma-separated values add up; undefined when not given. */
export function readList(argv: Argv, name: string): string[] | undefined {
  const value = argv[name];
  if (value === undefined) return undefined;
  const items = (Array.isArray(value) ? value : [value]).flatMap((item) => String(item).split(','));
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

export function readBoolean(argv: Argv, name: string): boolean {
  const value = argv[name];
  if (Array.isArray(value)) throw usage(`--${name} was given more than once`);
  return value === true;
}

/** An integer option given as text, checked against [min, max]; the message names the option. */
export function readInteger(argv: Argv, name: string, min: number, max: number): number | undefined {
  const text = readString(argv, name);
  if (text === undefined) return undefined;
  const value = /^-?\d{1,16}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw usage(
      `${optionLabel(argv, name)} must be an integer from ${min} to ${max}, not ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  return value;
}

/** Parses a JSON option; `kind` says which top-level shape it must have. */
export function readJson(argv: Argv, name: string, kind: 'array' | 'object' | 'array or object'): unknown {
  const text = readString(argv, name);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw usage(`${optionLabel(argv, name)} is not valid JSON: ${(err as Error).message}`);
  }
  const isArray = Array.isArray(value);
  const isObject = typeof value === 'object' && value !== null && !isArray;
  const ok = kind === 'array' ? isArray : kind === 'object' ? isObject : isArray || isObject;
  if (!ok)
    throw usage(
      `${optionLabel(argv, name)} must be a JSON ${kind}, e.g. ${kind === 'object' ? `'{"hello": "hi"}'` : `'[10, 20]'`}`,
    );
  return value;
}

/**
 * A secret-like file's text: a regular file of at most maxSecretFileBytes, read with that bound.
 * A FIFO, a device (/dev/zero), a socket or a directory is refused before anything is read, and
 * opening never blocks (O_NONBLOCK), so neither an endless device nor a FIFO without a writer hangs.
 */
function readSmallFile(path: string, label: string): string {
  const where = `${label} ${JSON.stringify(path)}`;
  const fail = (why: string) => usage(`cannot read ${where}: ${why}`);
  let fd: number | undefined;
  try {
    const kind = fileKind(statSync(path));
    if (kind !== 'file') throw fail(`it is ${kind}, not a regular file`);
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const opened = fileKind(fstatSync(fd)); // the path may have been swapped since the stat
    if (opened !== 'file') throw fail(`it is ${opened}, not a regular file`);
    const buffer = Buffer.alloc(maxSecretFileBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > maxSecretFileBytes)
      throw usage(`${where} is larger than ${maxSecretFileBytes} bytes; it should hold one value`);
    return buffer.toString('utf8', 0, length).trim();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw fail(describeFsError(err));
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** "file" for a regular file, otherwise what the path is, for messages ("a FIFO (named pipe)"). */
export function fileKind(info: Stats): string {
  if (info.isFile()) return 'file';
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return (err as Error).message;
}

/**
 * A value from `--<flag>` or `--<flag>-file` (either may have come from its GAW_ variable); giving
 * both is an error. The value itself never appears in a message.
 */
function readSecretLike(argv: Argv, flag: string): { value: string; source: string } | undefined {
  const fileFlag = `${flag}-file`;
  const direct = readString(argv, flag);
  const file = readString(argv, fileFlag);
  if (direct !== undefined && file !== undefined)
    throw usage(`give ${optionLabel(argv, flag)} or ${optionLabel(argv, fileFlag)}, not both`);
  if (direct !== undefined) return { value: direct.trim(), source: optionLabel(argv, flag) };
  if (file !== undefined) {
    const source = optionLabel(argv, fileFlag);
    return { value: readSmallFile(file, source), source };
  }
  return undefined;
}

/** The secret from --secret or --secret-file (or GAW_SECRET, GAW_SECRET_FILE), validated (the message never shows it). */
export function readSecret(argv: Argv): string | undefined {
  const found = readSecretLike(argv, 'secret');
  if (found === undefined) return undefined;
  parseSecret(found.value, `the secret from ${found.source}`);
  return found.value;
}

/** The HTTP bearer token from --http-token or --http-token-file (or GAW_HTTP_TOKEN, GAW_HTTP_TOKEN_FILE). */
export function readHttpToken(argv: Argv): string | undefined {
  const found = readSecretLike(argv, 'http-token');
  if (found === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,1024}$/.test(found.value)) {
    throw usage(
      `the HTTP token from ${found.source} must be 1 to 1024 visible ASCII characters (its value is not shown)`,
    );
  }
  return found.value;
}

/** Where a call goes: a GAWP/1 endpoint, or an HTTP bridge's /api URL. */
export type Target = { kind: 'tcp'; host: string; port: number } | { kind: 'http'; url: URL };

/** Parses `host:port`, `[v6]:port`, a bare `:port` (127.0.0.1) or `http(s)://host:port/api`. */
export function parseTarget(text: string, what = 'target'): Target {
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw usage(`${what} ${JSON.stringify(text.slice(0, 200))} is not a valid URL`);
    }
    if (url.username !== '' || url.password !== '')
      throw usage(`${what}: put no credentials in the URL; use --http-token or GAW_HTTP_TOKEN`);
    return { kind: 'http', url };
  }
  const match = /^(?:\[([^\]]+)\]|([^:/\s]*)):(\d{1,5})$/.exec(text);
  if (match === null) {
    throw usage(`${what} ${JSON.stringify(text.slice(0, 200))} is not host:port or an http://host:port/api URL`);
  }
  const port = Number(match[3]);
  if (port < 1 || port > 65535) throw usage(`${what} ${JSON.stringify(text)} has a port outside 1-65535`);
  const host = match[1] ?? match[2]!;
  return { kind: 'tcp', host: host === '' ? '127.0.0.1' : host, port };
}
