// Streams over a WebSocket on /api: a request that opts in with `"gaw": {"stream": true}` and
// whose method streams gets one `rpc.stream` notification per item,
//   {"jsonrpc":"2.0","method":"rpc.stream","params":{"id":<the request's id>,"item":<value>}}
// then the request's JSON-RPC response (the return value, or the error). The producer is not
// stepped while the socket holds more than wsStreamHighWaterBytes unsent; rpc.cancel, the deadline
// and the socket's close stop it. Running calls, caps and replies are ws-session.ts's.
import { AbortError, ConnectionError } from '../errors.js';
import { isPlainObject } from '../jsonrpc/index.js';
import type { JsonRpcId } from '../jsonrpc/index.js';
import type { CallOrigin, InboundCall } from './inbound-call.js';
import type { StreamEnd, StreamSink } from './served-streams.js';
import type { WsSession } from './ws-session.js';

/** A stream's producer waits while the socket's unsent output is over this (and resumes as it is written out). */
export const wsStreamHighWaterBytes = 256 * 1024;

/** The method of a stream's item notifications. */
export const streamItemMethod = 'rpc.stream';

const OPEN = 1;
const text = Object.freeze({ binary: false });

/**
 * The request's origin with a stream sink when it is one request (not a batch) carrying
 * `gaw.stream: true`; the origin as it was otherwise (a streaming method then gets -32020).
 */
export function wsStreamOrigin(session: WsSession, message: unknown, origin: CallOrigin): CallOrigin {
  if (!isPlainObject(message) || !isPlainObject(message.gaw) || message.gaw.stream !== true) return origin;
  return { ...origin, streams: new WsStreamSink(session) };
}

export class WsStreamSink implements StreamSink {
  /** The request asked for a stream in its gaw member: any JSON-RPC id names it. */
  readonly isOptIn = true;
  readonly #session: WsSession;

  constructor(session: WsSession) {
    this.#session = session;
  }

  async run(id: JsonRpcId, _window: number, source: AsyncIterable<unknown>, call: InboundCall): Promise<StreamEnd> {
    const { socket, owner } = this.#session;
    const settings = owner.settings;
    const encode = (value: unknown): Buffer =>
      settings.isRaw ? Buffer.from(JSON.stringify(value), 'utf8') : settings.codec.encode(value);
    let wake: (() => void) | undefined;
    const onWake = () => wake?.();
    const { signal } = call;
    signal.addEventListener('abort', onWake);
    let written = true;
    let waveBytes = 0;
    let iterator: AsyncIterator<unknown> | undefined;
    let isFinished = false;
    try {
      iterator = source[Symbol.asyncIterator]();
      for (;;) {
        // Waits for the last item sent to be written out; a close aborts the call, which wakes it.
        while (!written && socket.bufferedAmount > wsStreamHighWaterBytes && stopReason(call, socket) === undefined)
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        wake = undefined;
        const stopped = stopReason(call, socket);
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
        const late = stopReason(call, socket);
        if (late !== undefined) return { error: late };
        // An item that cannot be encoded ends the stream with an error (the producer is stopped).
        const frame = encode({ jsonrpc: '2.0', method: streamItemMethod, params: { id, item: step.value } });
        written = false;
        socket.send(frame, text, () => {
          written = true;
          onWake();
        });
        // Other sockets' reads and replies run between waves of items.
        waveBytes += frame.length;
        if (waveBytes >= wsStreamHighWaterBytes / 4) {
          waveBytes = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    } catch (err) {
      return { error: err };
    } finally {
      signal.removeEventListener('abort', onWake);
      if (!isFinished && iterator?.return !== undefined) {
        try {
          await iterator.return();
        } catch (err) {
          settings.logger.warn({ err, method: call.method }, "a stream's producer failed while it was stopped");
        }
      }
    }
  }
}

/** Why the stream must stop now: the call was given up on (rpc.cancel, deadline, close), or the socket is gone. */
function stopReason(call: InboundCall, socket: WsSession['socket']): Error | undefined {
  const reason = call.abortReason;
  if (reason !== undefined) return new AbortError('the stream was stopped', { cause: reason });
  if (socket.readyState !== OPEN) return new ConnectionError('GAW_ERR_CONN_CLOSED', 'the WebSocket closed');
  return undefined;
}
