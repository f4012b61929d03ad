// The HTTP bridge's answer for a streaming method, when the caller asks for it with
// `Accept: application/x-ndjson`: status 200, one `{"item": value}` line per item as the producer
// yields it, then the request's JSON-RPC response as the last line (http-handler.ts writes it).
// Flow control is the response's own: the producer is not stepped while res.write() has said
// false and 'drain' has not come. A caller that hangs up, or the call's deadline, stops it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AbortError, ConnectionError } from '../errors.js';
import type { JsonRpcId } from '../jsonrpc/index.js';
import type { Logger } from '../log.js';
import type { HttpApiSettings } from './http-options.js';
import type { CallOrigin, InboundCall } from './inbound-call.js';
import type { StreamEnd, StreamSink } from './served-streams.js';

export const ndjsonType = 'application/x-ndjson';

/** Also taken: the name the NDJSON spec settled on later. */
const ndjsonTypes = new Set([ndjsonType, 'application/ndjson']);

const itemOpen = Buffer.from('{"item":');
const itemClose = Buffer.from('}\n');
const newline = Buffer.from('\n');

/** True when an Accept header lists NDJSON (application/x-ndjson or application/ndjson) with q above 0. */
export function acceptsNdjson(accept: string | string[] | undefined): boolean {
  if (typeof accept !== 'string') return false;
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type === undefined || !ndjsonTypes.has(type)) continue;
    const q = params.find((param) => param.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

/**
 * The request's origin with an NDJSON sink for its stream when the caller accepts NDJSON and sent
 * one request (a batch never streams); the origin as it was otherwise (a stream then gets -32020).
 */
export function ndjsonOrigin(
  req: IncomingMessage,
  res: ServerResponse,
  message: unknown,
  origin: CallOrigin,
  settings: HttpApiSettings,
): CallOrigin {
  if (Array.isArray(message) || !acceptsNdjson(req.headers.accept)) return origin;
  const encode = settings.isRaw
    ? (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8')
    : (value: unknown) => settings.codec.encode(value);
  return { ...origin, streams: new NdjsonSink(res, encode, settings.logger, settings.isClosing()) };
}

/** The last line of a stream answered as NDJSON: the JSON-RPC response, then the end of the body. */
export function endNdjson(res: ServerResponse, response: Buffer): void {
  res.end(Buffer.concat([response, newline]));
}

export class NdjsonSink implements StreamSink {
  /** The Accept header asked for a stream: no wire window, and any JSON-RPC id names it. */
  readonly isOptIn = true;
  readonly #res: ServerResponse;
  readonly #encode: (value: unknown) => Buffer;
  readonly #logger: Logger;
  readonly #isClosing: boolean;

  constructor(res: ServerResponse, encode: (value: unknown) => Buffer, logger: Logger, isClosing: boolean) {
    this.#res = res;
    this.#encode = encode;
    this.#logger = logger;
    this.#isClosing = isClosing;
  }

  async run(_id: JsonRpcId, _window: number, source: AsyncIterable<unknown>, call: InboundCall): Promise<StreamEnd> {
    const res = this.#res;
    res.writeHead(200, {
      'Content-Type': ndjsonType,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      ...(this.#isClosing ? { Connection: 'close' } : {}),
    });
    let wake: (() => void) | undefined;
    const onWake = () => wake?.();
    res.on('drain', onWake);
    res.on('close', onWake);
    const { signal } = call;
    signal.addEventListener('abort', onWake);
    let iterator: AsyncIterator<unknown> | undefined;
    let isFinished = false;
    try {
      iterator = source[Symbol.asyncIterator]();
      for (;;) {
        while (res.writableNeedDrain && stopReason(call, res) === undefined)
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        wake = undefined;
        const stopped = stopReason(call, res);
        if (stopped !== undefined) return { error: stopped };
        let step: IteratorResult<unknown>;
        try {
          step = await iterator.next();
        } catch (err) {
          isFinished = true;
          return { error: err };
        }
        if (step.done === true) {
          isFinished = true;
          return { value: step.value };
        }
        const late = stopReason(call, res);
        if (late !== undefined) return { error: late };
        // An item that cannot be encoded ends the stream with an error (the producer is stopped).
        res.write(Buffer.concat([itemOpen, this.#encode(step.value), itemClose]));
      }
    } catch (err) {
      return { error: err };
    } finally {
      res.off('drain', onWake);
      res.off('close', onWake);
      signal.removeEventListener('abort', onWake);
      if (!isFinished && iterator?.return !== undefined) {
        try {
          await iterator.return();
        } catch (err) {
          this.#logger.warn({ err, method: call.method }, "a stream's producer failed while it was stopped");
        }
      }
    }
  }
}

/** Why the stream must stop now: the call was given up on (hang-up, deadline), or the response is gone. */
function stopReason(call: InboundCall, res: ServerResponse): Error | undefined {
  const reason = call.abortReason;
  if (reason !== undefined) return new AbortError('the stream was stopped', { cause: reason });
  if (res.destroyed) return new ConnectionError('GAW_ERR_CONN_CLOSED', 'the HTTP caller went away');
  return undefined;
}
