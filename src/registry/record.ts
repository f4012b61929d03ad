// What one server instance tells the registry about itself, and the checks every record and
// change message read back from Redis must pass: size, shape, name charset, a routable address.
// Anyone with Redis write access can write here, so nothing read is trusted (the GAWP/1 handshake
// still authenticates the server itself); records carry no secrets, ever. Globs are here too.
import { UsageError } from '../errors.js';

/** One instance as stored (JSON, at most maxRecordBytes). */
export interface InstanceRecord {
  readonly v: 1;
  /** 128 random bits, base64url. */
  readonly id: string;
  /** `host:port` or `[v6]:port`, routable (never 0.0.0.0 or ::). */
  readonly addr: string;
  readonly services: readonly string[];
  readonly suites: readonly string[];
  readonly codecs: readonly string[];
  readonly keyId: number;
  /** Processes behind the address (a --workers group registers once). */
  readonly workers: number;
  /** Relative share of calls (default 100). */
  readonly weight: number;
  readonly zone?: string | undefined;
  readonly version?: string | undefined;
  readonly draining: boolean;
}

export const maxRecordBytes = 4096;
export const maxServicesPerRecord = 64;
const namePattern = /^[A-Za-z0-9_.-]{1,128}$/;
const idPattern = /^[A-Za-z0-9_-]{16,64}$/;
const shortText = /^[\x21-\x7e]{1,64}$/;
const hostname =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$/;
const ipv6 = /^[0-9A-Fa-f:.]{2,45}$/;

export function isServiceName(name: unknown): name is string {
  return typeof name === 'string' && namePattern.test(name);
}

/** `name`, or a UsageError saying it is not a service name. */
export function checkedServiceName(name: unknown): string {
  if (isServiceName(name)) return name;
  const shown = JSON.stringify(String(name).slice(0, 130));
  throw new UsageError('GAW_ERR_INVALID_OPTION', `${shown} is not a service name ([A-Za-z0-9_.-], 1 to 128)`);
}

export function isInstanceId(id: unknown): id is string {
  return typeof id === 'string' && idPattern.test(id);
}

/** `{ host, port }` of a `host:port` / `[v6]:port` address, or undefined when it is not routable. */
export function parseAddress(addr: unknown): { host: string; port: number } | undefined {
  if (typeof addr !== 'string' || addr.length > 300) return undefined;
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(addr);
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return undefined;
  const host = (match[1] ?? match[2]) as string;
  if (match[1] !== undefined ? !ipv6.test(host) || !host.includes(':') : !hostname.test(host)) return undefined;
  if (host === '0.0.0.0' || /^[0:]+$/.test(host)) return undefined;
  return { host, port };
}

function isTextList(value: unknown, max: number, pattern: RegExp): value is string[] {
  return (
    Array.isArray(value) && value.length <= max && value.every((item) => typeof item === 'string' && pattern.test(item))
  );
}

/**
 * The record in `json` if it is one (at most maxRecordBytes, the shape above, names and address
 * valid, and its id `expectedId` when given); else why not.
 */
export function parseRecord(json: unknown, expectedId?: string): InstanceRecord | string {
  if (typeof json !== 'string') return 'not a string';
  if (Buffer.byteLength(json) > maxRecordBytes) return `larger than ${maxRecordBytes} bytes`;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const r = value as Record<string, unknown>;
  if (r.v !== 1) return 'not version 1';
  if (!isInstanceId(r.id) || (expectedId !== undefined && r.id !== expectedId)) return 'bad id';
  if (parseAddress(r.addr) === undefined) return 'addr is not a routable host:port';
  if (
    !Array.isArray(r.services) ||
    r.services.length === 0 ||
    !isTextList(r.services, maxServicesPerRecord, namePattern)
  )
    return 'bad services';
  const suites = r.suites ?? [];
  const codecs = r.codecs ?? [];
  if (!isTextList(suites, 8, shortText) || !isTextList(codecs, 8, shortText)) return 'bad suites or codecs';
  const keyId = r.keyId ?? 0;
  const workers = r.workers ?? 1;
  const weight = r.weight ?? 100;
  if (typeof keyId !== 'number' || !Number.isInteger(keyId) || keyId < 0 || keyId > 255) return 'bad keyId';
  if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1 || workers > 4096) return 'bad workers';
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0 || weight > 1_000_000) return 'bad weight';
  for (const key of ['zone', 'version'] as const)
    if (r[key] !== undefined && (typeof r[key] !== 'string' || !shortText.test(r[key] as string))) return `bad ${key}`;
  if (r.draining !== undefined && typeof r.draining !== 'boolean') return 'bad draining';
  return {
    v: 1,
    id: r.id,
    addr: r.addr as string,
    services: [...new Set(r.services)],
    suites,
    codecs,
    keyId,
    workers,
    weight,
    zone: r.zone as string | undefined,
    version: r.version as string | undefined,
    draining: r.draining === true,
  };
}

/** A change as published on the changes channel. */
export interface ChangeMessage {
  readonly op: 'up' | 'update' | 'drain' | 'down';
  readonly id: string;
  readonly rev: number;
  /** up/update/drain: the record's JSON, checked by parseRecord. */
  readonly rec?: string;
}

/** A change message, or undefined when it is not one (bounded, shape-checked; the record is checked apart). */
export function parseChange(json: string): ChangeMessage | undefined {
  if (json.length > maxRecordBytes * 2 + 256) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  if (m.v !== 1 || !isInstanceId(m.id)) return undefined;
  if (typeof m.rev !== 'number' || !Number.isSafeInteger(m.rev) || m.rev < 1) return undefined;
  if (m.op === 'down') return { op: 'down', id: m.id, rev: m.rev };
  if ((m.op === 'up' || m.op === 'update' || m.op === 'drain') && typeof m.rec === 'string')
    return { op: m.op, id: m.id, rev: m.rev, rec: m.rec };
  return undefined;
}

/**
 * A Redis-style glob (`*`, `?`, `[a-z]`, `[^a]`, `\` escapes; `*` also matches `.`) as a RegExp
 * over a whole name. At most 256 characters.
 */
export function globToRegExp(pattern: string): RegExp {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > 256)
    throw new TypeError('a service pattern is 1 to 256 characters');
  let out = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '\\' && i + 1 < pattern.length) out += escapeChar(pattern[++i] as string);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) {
        out += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('^') || body.startsWith('!');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^[]/g, (x) => `\\${x}`)}]`;
      i = end;
    } else out += escapeChar(c);
  }
  return new RegExp(`${out}$`, 's');
}

function escapeChar(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, (x) => `\\${x}`);
}
