// The legacy listener's and client's option bags, their defaults in one place, and validation.
// What the options do is documented here; the listener and client only read resolved values.
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { checkOptionKeys } from '../options.js';
import { checkInteger, postofficeDefaults } from '../postoffice/index.js';
import type { Registry } from '../serializable/index.js';

export interface LegacyListenerOptions {
  /** Handles one plain JSON-RPC 2.0 request object (params not yet revived); resolves to its response. */
  dispatch: (request: unknown) => Promise<unknown | undefined>;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port; read `address`). */
  port?: number;
  /** base64 of 16, 24 or 32 bytes, Python Gaw's key (used raw). Without it the listener is plain. */
  secret?: string;
  /** Encrypt as well as sign (needs `secret`). */
  encrypt?: boolean;
  /** Encodes results (default: the default registry). */
  registry?: Registry;
  /** Largest JSON payload in a frame, before sealing overhead (default 16 MiB). */
  maxPayloadBytes?: number;
  /** A frame that has started must complete within this (default 30 s). */
  frameTimeoutMs?: number;
  /** A connection with no frame and no call in progress for this long is closed (default 120 s; 0 = never). */
  idleTimeoutMs?: number;
  /** Open connections in total; past it new sockets are closed at once (default 1024). */
  maxConnections?: number;
  /** Connections that have not yet sent an authentic request; at the cap the oldest is dropped (default 128). */
  maxUnauthenticated?: number;
  /** How long close() lets calls in progress finish before it destroys their connections (default 10 s). */
  closeTimeoutMs?: number;
  logger?: Logger;
}

export interface LegacyClientOptions {
  host: string;
  port: number;
  /** base64 of 16, 24 or 32 bytes, the Python server's secret. Without it the client is plain. */
  secret?: string;
  /** Encrypt as well as sign (needs `secret`); must match the server. */
  encrypt?: boolean;
  /** Encodes arguments and revives results (default: the default registry). */
  registry?: Registry;
  /** Default per-call timeout, from the call to its reply (default 30 s). */
  timeoutMs?: number;
  /** TCP connect timeout (default 10 s). */
  connectTimeoutMs?: number;
  /** Largest JSON payload sent or accepted, before sealing overhead (default 16 MiB). */
  maxPayloadBytes?: number;
  /** Connections kept to the server; each carries one call at a time, further calls queue (default 4). */
  maxConnections?: number;
  /** An unused connection is closed after this long (default 30 s, Python Gaw's client lifetime). */
  idleTimeoutMs?: number;
}

const legacyListenerDefaults = Object.freeze({
  host: '127.0.0.1',
  port: 0,
  maxPayloadBytes: postofficeDefaults.maxPayloadBytes,
  frameTimeoutMs: postofficeDefaults.frameTimeoutMs,
  idleTimeoutMs: postofficeDefaults.idleTimeoutMs,
  maxConnections: 1024,
  maxUnauthenticated: 128,
  closeTimeoutMs: 10_000,
});

const listenerKeys = new Set<string>([
  'dispatch',
  'host',
  'port',
  'secret',
  'encrypt',
  'registry',
  'maxPayloadBytes',
  'frameTimeoutMs',
  'idleTimeoutMs',
  'maxConnections',
  'maxUnauthenticated',
  'closeTimeoutMs',
  'logger',
] satisfies (keyof LegacyListenerOptions)[]);

const clientKeys = new Set<string>([
  'host',
  'port',
  'secret',
  'encrypt',
  'registry',
  'timeoutMs',
  'connectTimeoutMs',
  'maxPayloadBytes',
  'maxConnections',
  'idleTimeoutMs',
] satisfies (keyof LegacyClientOptions)[]);

const legacyClientDefaults = Object.freeze({
  timeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  maxPayloadBytes: postofficeDefaults.maxPayloadBytes,
  maxConnections: 4,
  idleTimeoutMs: 30_000,
});

/** The largest frame length a 10-digit header can name, less the largest sealing overhead. */
const MAX_FRAME_BYTES = 9_999_999_999 - 64;
/** setTimeout's largest delay. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export type ResolvedListenerOptions = Required<
  Omit<LegacyListenerOptions, 'secret' | 'encrypt' | 'registry' | 'logger'>
>;
export type ResolvedClientOptions = Required<Omit<LegacyClientOptions, 'secret' | 'encrypt' | 'registry'>>;

export function resolveListenerOptions(options: LegacyListenerOptions): ResolvedListenerOptions {
  if (options === null || typeof options !== 'object')
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'legacy listener options must be an object');
  checkOptionKeys(options, listenerKeys, 'legacy listener options');
  if (typeof options.dispatch !== 'function')
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'dispatch must be a function');
  const o = { ...legacyListenerDefaults, ...withoutUndefined(options) };
  if (typeof o.host !== 'string') throw new UsageError('GAW_ERR_INVALID_OPTION', 'host must be a string');
  checkInteger('port', o.port, 0, 65535);
  checkInteger('maxPayloadBytes', o.maxPayloadBytes, 1, MAX_FRAME_BYTES);
  checkInteger('frameTimeoutMs', o.frameTimeoutMs, 1, MAX_TIMER_MS);
  checkInteger('idleTimeoutMs', o.idleTimeoutMs, 0, MAX_TIMER_MS);
  checkInteger('maxConnections', o.maxConnections, 1);
  checkInteger('maxUnauthenticated', o.maxUnauthenticated, 1);
  checkInteger('closeTimeoutMs', o.closeTimeoutMs, 0, MAX_TIMER_MS);
  return o as ResolvedListenerOptions;
}

export function resolveClientOptions(options: LegacyClientOptions): ResolvedClientOptions {
  if (options === null || typeof options !== 'object')
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'legacy client options must be an object');
  checkOptionKeys(options, clientKeys, 'legacy client options');
  const o = { ...legacyClientDefaults, ...withoutUndefined(options) };
  if (typeof o.host !== 'string' || o.host === '')
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'host must be a non-empty string');
  checkInteger('port', o.port, 1, 65535);
  checkInteger('timeoutMs', o.timeoutMs, 1, MAX_TIMER_MS);
  checkInteger('connectTimeoutMs', o.connectTimeoutMs, 1, MAX_TIMER_MS);
  checkInteger('maxPayloadBytes', o.maxPayloadBytes, 1, MAX_FRAME_BYTES);
  checkInteger('maxConnections', o.maxConnections, 1);
  checkInteger('idleTimeoutMs', o.idleTimeoutMs, 1, MAX_TIMER_MS);
  return o as ResolvedClientOptions;
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
