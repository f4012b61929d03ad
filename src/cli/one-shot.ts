// One JSON-RPC message to a target and its reply as plain wire data (class tags left as
// {"_t", "_v"}), for `gaw call` and `gaw list`: over one GAWP/1 connection (dialled, used once,
// closed) or one HTTP POST to a bridge's /api. Times the connect+handshake and the call apart.
// Not a client: no pool, no retries; long-lived callers use GawClient.
import { performance } from 'node:perf_hooks';
import { ConnectionError, GawError, TimeoutError } from '../errors.js';
import { dial, HandshakeRejectedError, parseSecret } from '../postoffice/index.js';
import type { Connection, SuiteName } from '../postoffice/index.js';
import { createCodec } from '../serializable/index.js';
import type { CodecName } from '../serializable/index.js';
import { usage } from './options.js';
import type { Target } from './options.js';

export interface OneShotOptions {
  secret?: string | undefined;
  encrypt?: boolean;
  suite?: SuiteName | undefined;
  codec?: CodecName | undefined;
  /** Bearer token for an HTTP target. */
  httpToken?: string | undefined;
  timeoutMs: number;
  /** Largest reply accepted (default 16 MiB). */
  maxReplyBytes?: number;
}

export interface OneShotResult {
  /** The decoded reply, tags not revived; undefined when the server sent none (HTTP 204). */
  reply: unknown;
  /** Milliseconds to connect and finish the handshake (TCP targets only). */
  connectMs?: number;
  /** Milliseconds from sending the request to its reply (for HTTP, the whole exchange). */
  callMs: number;
}

const defaultMaxReplyBytes = 16 * 1024 * 1024;

function pickSuite(options: OneShotOptions): SuiteName {
  const hasSecret = options.secret !== undefined;
  if (options.suite !== undefined) {
    if ((options.suite === 'none') === hasSecret) {
      throw usage(hasSecret ? '--suite none cannot be used with a secret' : `--suite ${options.suite} needs a secret`);
    }
    return options.suite;
  }
  if (!hasSecret) {
    if (options.encrypt) throw usage('--encrypt needs a secret: --secret-file, GAW_SECRET or --secret');
    return 'none';
  }
  return options.encrypt ? 'cbc' : 'sign';
}

/** The handshake refusal with what to change on this side. */
function explainRejection(err: HandshakeRejectedError): GawError {
  if (err.reason !== 'suite') return err;
  const hint = /suite none/.test(err.message) ? 'call without a secret (is GAW_SECRET set?)'
    : /suite cbc/.test(err.message) ? 'pass the secret with --encrypt'
      : /suite sign/.test(err.message) ? 'pass the secret without --encrypt'
        : 'pass the matching --suite and secret';
  return new HandshakeRejectedError(`the ${err.message}: ${hint}`, err.reason);
}

/** Sends `message` (a plain JSON-RPC request) and resolves to the plain reply. */
export function sendOnce(target: Target, message: object, options: OneShotOptions): Promise<OneShotResult> {
  return target.kind === 'tcp' ? sendTcp(target, message, options) : sendHttp(target.url, message, options);
}

async function sendTcp(target: { host: string; port: number }, message: object, options: OneShotOptions): Promise<OneShotResult> {
  const suite = pickSuite(options);
  const codecName = options.codec ?? 'json';
  const maxPayloadBytes = (options.maxReplyBytes ?? defaultMaxReplyBytes) + 4;
  const codec = createCodec(codecName);
  const started = performance.now();
  let connection: Connection;
  try {
    connection = await dial({
      host: target.host, port: target.port, suite, codec: codecName,
      psk: options.secret === undefined ? undefined : parseSecret(options.secret),
      connectTimeoutMs: options.timeoutMs, handshakeTimeoutMs: options.timeoutMs, maxPayloadBytes,
    });
  } catch (err) {
    throw err instanceof HandshakeRejectedError ? explainRejection(err) : err;
  }
  const connected = performance.now();
  // json: the message's own text, so tags typed on the command line pass through untouched.
  const bytes = codecName === 'json' ? Buffer.from(JSON.stringify(message), 'utf8') : codec.encode(message);
  try {
    const remainingMs = Math.max(1, Math.round(started + options.timeoutMs - connected));
    const reply = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TimeoutError('GAW_ERR_CALL_TIMEOUT', `no reply within ${options.timeoutMs} ms`)), remainingMs);
      connection.once('message', (received) => {
        clearTimeout(timer);
        try {
          resolve(codec.decode(received));
        } catch (err) {
          reject(err);
        }
      });
      connection.once('close', (err) => {
        clearTimeout(timer);
        reject(err ?? new ConnectionError('GAW_ERR_CONN_CLOSED', 'the server closed the connection before replying'));
      });
      try {
        connection.send(bytes);
      } catch (err) {
        clearTimeout(timer);
        reject(err);
      }
    });
    return { reply, connectMs: connected - started, callMs: performance.now() - connected };
  } finally {
    connection.end();
  }
}

async function sendHttp(url: URL, message: object, options: OneShotOptions): Promise<OneShotResult> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (options.httpToken !== undefined) headers.Authorization = `Bearer ${options.httpToken}`;
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(message), signal: AbortSignal.timeout(options.timeoutMs) });
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') throw new TimeoutError('GAW_ERR_CALL_TIMEOUT', `no reply from ${url.href} within ${options.timeoutMs} ms`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code === 'ECONNREFUSED' ? 'connection refused' : (cause?.message ?? (err as Error).message);
    throw new ConnectionError(cause?.code === 'ECONNREFUSED' ? 'GAW_ERR_CONN_REFUSED' : 'GAW_ERR_CONN_CLOSED', `cannot reach ${url.href}: ${why}`, { cause: err });
  }
  const body = await readCapped(response, options.maxReplyBytes ?? defaultMaxReplyBytes);
  const callMs = performance.now() - started;
  if (response.status === 204) return { reply: undefined, callMs };
  let data: unknown;
  try {
    data = body.length === 0 ? undefined : createCodec('json').decode(body);
  } catch {
    data = undefined;
  }
  if (response.status !== 200 && !(response.status === 500 && isResponseLike(data))) {
    const reason = typeof (data as { error?: unknown } | undefined)?.error === 'string' ? (data as { error: string }).error : response.statusText;
    throw new ConnectionError('GAW_ERR_BAD_RESPONSE', `HTTP ${response.status} from ${url.href}: ${reason}`);
  }
  if (data === undefined) throw new ConnectionError('GAW_ERR_BAD_RESPONSE', `the reply from ${url.href} is not JSON`);
  return { reply: data, callMs };
}

function isResponseLike(data: unknown): boolean {
  return typeof data === 'object' && data !== null && ('result' in data || 'error' in data);
}

/** The response body, refusing more than `maxBytes` (memory stays bounded whatever the server sends). */
async function readCapped(response: Response, maxBytes: number): Promise<Buffer> {
  if (response.body === null) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new ConnectionError('GAW_ERR_BAD_RESPONSE', `the HTTP reply is larger than ${maxBytes} bytes`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks, size);
}
