// One JSON-RPC request to a target and its validated response as plain wire data (class tags
// left as {"_t", "_v"}), for `gaw call` and `gaw list`: over one GAWP/1 connection (dialled, used
// once, closed) or one HTTP POST to a bridge's /api. Times the connect+handshake and the call apart.
// A Transport (src/client/transport.ts) with no pool and any codec; GawClient.callRaw is json-only
// and hides the connect.
import { performance } from 'node:perf_hooks';
import { AbortError, ConnectionError, type GawError, ProtocolError, TimeoutError } from '../errors.js';
import { isPlainObject, parseResponse, requestMessage } from '../jsonrpc/index.js';
import type { JsonRpcRequest, ParsedResponse } from '../jsonrpc/index.js';
import { chooseSuite, dial, HandshakeRejectedError, parseSecret } from '../postoffice/index.js';
import type { Connection, SuiteName } from '../postoffice/index.js';
import { createCodec, createRawJsonCodec } from '../serializable/index.js';
import type { Codec, CodecName } from '../serializable/index.js';
import type { Attempt, Outcome, OutgoingCall, Transport, TransportFeatures } from '../client/index.js';
import { usage } from './options.js';
import type { Target } from './options.js';
import { escapeControls } from './terminal-text.js';

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
  /** The response's result or error, tags not revived. */
  response: ParsedResponse;
  /** Milliseconds to connect and finish the handshake (TCP targets only). */
  connectMs?: number;
  /** Milliseconds from sending the request to its reply (for HTTP, the whole exchange). */
  callMs: number;
}

const defaultMaxReplyBytes = 16 * 1024 * 1024;
const maxReasonChars = 500;

/** The handshake refusal with what to change on this side. */
function explainRejection(err: HandshakeRejectedError): GawError {
  if (err.reason !== 'suite') return err;
  const hints: Record<string, string> = {
    none: 'call without a secret (is GAW_SECRET set?)',
    cbc: 'pass the secret with --encrypt',
    sign: 'pass the secret without --encrypt',
  };
  const hint = hints[err.requiredSuite ?? ''] ?? 'pass the matching --suite and secret';
  return new HandshakeRejectedError(`the ${err.message}: ${hint}`, err.reason, err.requiredSuite);
}

const features: TransportFeatures = Object.freeze({ notifications: false, batches: false, ownCodec: false });

/**
 * The CLI's transport: each call dials one GAWP/1 connection (or makes one HTTP POST), sends the
 * request as wire data (class tags typed on the command line pass through, nothing is revived) and
 * closes it. A Transport like the client's pool, so the deadline and abort rules are the same;
 * `timings` holds the last call's connect and call times for `--timing`.
 */
export class OneShotTransport implements Transport {
  readonly protocol: string;
  readonly features = features;
  readonly codec: Codec = createRawJsonCodec();
  readonly #target: Target;
  readonly #options: OneShotOptions;
  readonly #open = new Set<Connection>();
  #pending = 0;
  timings: { connectMs?: number; callMs: number } | undefined;

  constructor(target: Target, options: OneShotOptions) {
    this.#target = target;
    this.#options = options;
    this.protocol = target.kind === 'tcp' ? 'gawp' : 'http';
  }

  get pendingCount(): number {
    return this.#pending;
  }

  get connectionCount(): number {
    return this.#open.size;
  }

  async call(call: OutgoingCall, attempt: Attempt): Promise<Outcome> {
    const message = requestMessage(1, call.method, call.params);
    this.#pending++;
    try {
      const { response, ...timings } =
        this.#target.kind === 'tcp'
          ? await this.#sendTcp(this.#target, message, attempt)
          : await sendHttp(this.#target.url, message, this.#options, attempt);
      this.timings = timings;
      return 'error' in response ? { error: response.error } : { result: response.result };
    } finally {
      this.#pending--;
    }
  }

  batch(): Promise<Outcome[]> {
    return Promise.reject(usage('the CLI sends one call at a time'));
  }

  notify(): Promise<void> {
    return Promise.reject(usage('the CLI sends calls, not notifications'));
  }

  async close(): Promise<void> {
    for (const connection of this.#open) connection.end();
  }

  destroy(): void {
    for (const connection of this.#open) connection.destroy();
  }

  async #sendTcp(
    target: { host: string; port: number },
    message: JsonRpcRequest,
    attempt: Attempt,
  ): Promise<{ response: ParsedResponse; connectMs: number; callMs: number }> {
    const options = this.#options;
    if (options.encrypt && options.secret === undefined)
      throw usage('--encrypt needs a secret: --secret-file, GAW_SECRET or --secret');
    const suite = chooseSuite(options, options.secret !== undefined);
    const codecName = options.codec ?? 'json';
    const maxPayloadBytes = (options.maxReplyBytes ?? defaultMaxReplyBytes) + 4;
    const codec = createCodec(codecName);
    const started = performance.now();
    const budgetMs = Math.max(1, Math.ceil(attempt.deadlineMs - started));
    let connection: Connection;
    try {
      connection = await dial({
        host: target.host,
        port: target.port,
        suite,
        codec: codecName,
        psk: options.secret === undefined ? undefined : parseSecret(options.secret),
        connectTimeoutMs: budgetMs,
        handshakeTimeoutMs: budgetMs,
        maxPayloadBytes,
        signal: attempt.signal,
      });
    } catch (err) {
      throw err instanceof HandshakeRejectedError ? explainRejection(err) : err;
    }
    this.#open.add(connection);
    const connected = performance.now();
    // json: the message's own text, so tags typed on the command line pass through untouched.
    const bytes = codecName === 'json' ? this.codec.encode(message) : codec.encode(message);
    try {
      const remainingMs = Math.max(1, Math.ceil(attempt.deadlineMs - connected));
      const reply = await new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new TimeoutError('GAW_ERR_CALL_TIMEOUT', `no reply within ${attempt.timeoutMs} ms`)),
          remainingMs,
        );
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
      return { response: parseResponse(reply), connectMs: connected - started, callMs: performance.now() - connected };
    } finally {
      this.#open.delete(connection);
      connection.end();
    }
  }
}

/**
 * Sends `message` and resolves to its response, checked by the jsonrpc module's parseResponse
 * (a reply that is not a JSON-RPC 2.0 response rejects with ProtocolError GAW_ERR_BAD_RESPONSE).
 */
export async function sendOnce(
  target: Target,
  message: JsonRpcRequest,
  options: OneShotOptions,
): Promise<OneShotResult> {
  const transport = new OneShotTransport(target, options);
  const outcome = await transport.call(
    { method: message.method, params: message.params },
    {
      deadlineMs: performance.now() + options.timeoutMs,
      timeoutMs: options.timeoutMs,
      signal: undefined,
      what: message.method,
    },
  );
  const response: ParsedResponse =
    'error' in outcome ? { id: message.id, error: outcome.error } : { id: message.id, result: outcome.result };
  return { response, ...(transport.timings as { connectMs?: number; callMs: number }) };
}

async function sendHttp(
  url: URL,
  message: JsonRpcRequest,
  options: OneShotOptions,
  attempt: Attempt,
): Promise<OneShotResult> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (options.httpToken !== undefined) headers.Authorization = `Bearer ${options.httpToken}`;
  const started = performance.now();
  const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(attempt.deadlineMs - started)));
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(message),
      signal: attempt.signal === undefined ? timeout : AbortSignal.any([timeout, attempt.signal]),
    });
  } catch (err) {
    if ((err as Error).name === 'TimeoutError')
      throw new TimeoutError('GAW_ERR_CALL_TIMEOUT', `no reply from ${url.href} within ${attempt.timeoutMs} ms`, {
        cause: err,
      });
    if (attempt.signal?.aborted)
      throw new AbortError(`${message.method} was aborted`, { cause: attempt.signal.reason });
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code === 'ECONNREFUSED' ? 'connection refused' : (cause?.message ?? (err as Error).message);
    throw new ConnectionError(
      cause?.code === 'ECONNREFUSED' ? 'GAW_ERR_CONN_REFUSED' : 'GAW_ERR_CONN_CLOSED',
      `cannot reach ${url.href}: ${why}`,
      { cause: err },
    );
  }
  const body = await readCapped(response, options.maxReplyBytes ?? defaultMaxReplyBytes);
  const callMs = performance.now() - started;
  let data: unknown;
  try {
    data = body.length === 0 ? undefined : createCodec('json').decode(body);
  } catch {
    data = undefined;
  }
  // 200 carries the response; so does 500 when the bridge's dispatch failed. Other statuses
  // (401, 413, ...) are HTTP-level refusals whose body is a JSON-RPC error with id null.
  if (
    response.status !== 200 &&
    !(response.status === 500 && isPlainObject(data) && ('result' in data || 'error' in data))
  ) {
    const error = isPlainObject(data) ? data.error : undefined;
    const reason = isPlainObject(error) && typeof error.message === 'string' ? error.message : response.statusText;
    // The reason is the server's text: shortened, and escaped (it may hold ESC, CR or newlines).
    const shown = escapeControls(reason.length > maxReasonChars ? `${reason.slice(0, maxReasonChars)}…` : reason);
    throw new ProtocolError('GAW_ERR_BAD_RESPONSE', `HTTP ${response.status} from ${url.href}: ${shown}`);
  }
  if (data === undefined) throw new ProtocolError('GAW_ERR_BAD_RESPONSE', `the reply from ${url.href} is not JSON`);
  return { response: parseResponse(data), callMs };
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
      throw new ProtocolError('GAW_ERR_BAD_RESPONSE', `the HTTP reply is larger than ${maxBytes} bytes`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks, size);
}
