// The options of the WebSocket endpoint on /api (the bridge's `websocket`, httpUpgradeHandler()'s
// `websocket`), their defaults in one place, and their validation. The checks a handshake shares
// with POST (token, Host, Origin) are the handler's options, in http-options.ts.
import { UsageError } from '../errors.js';
import { checkInteger } from '../postoffice/index.js';
import { checkOptionKeys } from '../options.js';

export interface WebSocketOptions {
  /** Largest message (default: the handler's maxBodyBytes, 1 MiB); a larger one closes the socket with 1009. */
  maxMessageBytes?: number;
  /** Requests running at once per socket (default 64; a batch takes one per element); past it the socket is not read. */
  maxInFlight?: number;
  /** Bytes of messages already read that wait for a slot, per socket (default 1 MiB); past it requests get -32002. */
  maxQueuedBytes?: number;
  /** Unsent output per socket past which it is not read and pushes to it are dropped (default 1 MiB). */
  maxBufferedBytes?: number;
  /** A socket whose unsent output stays over maxBufferedBytes this long is dropped (default 30 s). */
  drainTimeoutMs?: number;
  /** The server pings this often; a socket silent for a whole interval while read is dropped (default 30 s). */
  pingIntervalMs?: number;
  /** Without a token in the handshake, rpc.auth must arrive within this (default 5 s), else 4401. */
  authTimeoutMs?: number;
  /** Open sockets at once on this endpoint (default 256); past it the upgrade gets 503. */
  maxSockets?: number;
  /** Names one socket may be subscribed to (default 64). */
  maxSubscriptions?: number;
}

export const webSocketDefaults = {
  maxInFlight: 64,
  maxQueuedBytes: 1024 * 1024,
  maxBufferedBytes: 1024 * 1024,
  drainTimeoutMs: 30_000,
  pingIntervalMs: 30_000,
  authTimeoutMs: 5_000,
  maxSockets: 256,
  maxSubscriptions: 64,
} as const;

export type WebSocketSettings = Required<WebSocketOptions>;

const keys = new Set<string>([...Object.keys(webSocketDefaults), 'maxMessageBytes']);
const maxTimeoutMs = 2 ** 30;

/** `true` or an options object, validated; `maxBodyBytes` is the default message cap. */
export function resolveWebSocketOptions(options: true | WebSocketOptions, maxBodyBytes: number): WebSocketSettings {
  const o: WebSocketOptions = options === true ? {} : options;
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'websocket must be true or an object of WebSocket options');
  checkOptionKeys(o, keys, 'websocket options');
  const d = webSocketDefaults;
  return {
    maxMessageBytes: checkInteger('websocket.maxMessageBytes', o.maxMessageBytes ?? maxBodyBytes, 1, 2 ** 31 - 1),
    maxInFlight: checkInteger('websocket.maxInFlight', o.maxInFlight ?? d.maxInFlight, 1),
    maxQueuedBytes: checkInteger('websocket.maxQueuedBytes', o.maxQueuedBytes ?? d.maxQueuedBytes, 0),
    maxBufferedBytes: checkInteger('websocket.maxBufferedBytes', o.maxBufferedBytes ?? d.maxBufferedBytes, 1),
    drainTimeoutMs: checkInteger('websocket.drainTimeoutMs', o.drainTimeoutMs ?? d.drainTimeoutMs, 1, maxTimeoutMs),
    pingIntervalMs: checkInteger('websocket.pingIntervalMs', o.pingIntervalMs ?? d.pingIntervalMs, 10, maxTimeoutMs),
    authTimeoutMs: checkInteger('websocket.authTimeoutMs', o.authTimeoutMs ?? d.authTimeoutMs, 1, maxTimeoutMs),
    maxSockets: checkInteger('websocket.maxSockets', o.maxSockets ?? d.maxSockets, 1),
    maxSubscriptions: checkInteger('websocket.maxSubscriptions', o.maxSubscriptions ?? d.maxSubscriptions, 0),
  };
}
