// The server's side of the stream extension on one GAWP/1 connection: runs each stream's producer
// (an AsyncIterable a handler returned) as far as the stream's credit and the socket allow, sends
// its items, stops it (return(): its finally runs) at its next step on a cancel, a deadline or the
// connection's end, and says how it ended. The reply that ends a stream is handler-outcome.ts's.
import { AbortError, ConnectionError, ProtocolError } from '../errors.js';
import type { JsonRpcId } from '../jsonrpc/index.js';
import type { Logger } from '../log.js';
import { itemHead, streamLimits } from '../postoffice/index.js';
import type { Connection } from '../postoffice/index.js';
import type { Codec } from '../serializable/index.js';
import type { InboundCall } from './inbound-call.js';

/**
 * A producer is not stepped while the socket holds more than this unsent, whatever its credit: a
 * unary reply then waits behind at most this much stream data, and a peer that grants credit
 * without reading costs the server no more than this per connection.
 */
export const streamHighWaterBytes = 256 * 1024;

/**
 * Stream items sent in one turn of the event loop, over all of a connection's streams, before the
 * producers wait for the next turn: the connection's reader runs between waves, so a unary request
 * that arrived is read, run and answered behind at most one wave, not every stream's whole credit.
 */
export const streamWaveBytes = 64 * 1024;

/** How a stream ended: its producer's return value, or what stopped it. */
export type StreamEnd = { value: unknown } | { error: unknown };

/** Where a streaming handler's items go: a GAWP/1 connection with the extension, or the HTTP bridge's NDJSON. */
export interface StreamSink {
  /** True when the caller opted in out of band (the bridge's Accept header, a WebSocket's gaw.stream): any id names the stream. */
  readonly isOptIn?: boolean;
  run(id: JsonRpcId, window: number, source: AsyncIterable<unknown>, call: InboundCall): Promise<StreamEnd>;
}

export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

/** The stream id a request's id must be: an integer 0..2^32 - 1. */
export function isStreamId(id: unknown): id is number {
  return typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= streamLimits.maxStreamId;
}

interface Running {
  credit: number;
  wake: (() => void) | undefined;
}

export class ServedStreams implements StreamSink {
  readonly #connection: Connection;
  readonly #codec: Codec;
  readonly #logger: Logger;
  readonly #running = new Map<number, Running>();
  /** Item bytes sent in this turn of the event loop; past streamWaveBytes, producers wait for #nextWave. */
  #waveBytes = 0;
  #nextWave: Promise<void> | undefined;
  readonly #wakeAll = () => {
    for (const stream of this.#running.values()) stream.wake?.();
  };

  constructor(connection: Connection, codec: Codec, logger: Logger) {
    this.#connection = connection;
    this.#codec = codec;
    this.#logger = logger;
    connection.on('credit', (streamId, credit) => {
      // A credit for a stream that is not running may have crossed its end: ignored.
      const stream = this.#running.get(streamId);
      if (stream === undefined) return;
      stream.credit += credit;
      if (stream.credit > streamLimits.maxCredit) {
        connection.destroy(
          new ProtocolError('GAW_ERR_BAD_FRAME', `bad stream entry: credit for stream ${streamId} above 2^32 - 1`),
        );
        return;
      }
      stream.wake?.();
    });
    connection.on('drain', this.#wakeAll);
    connection.on('close', this.#wakeAll);
  }

  /** Streams running now. */
  get size(): number {
    return this.#running.size;
  }

  /** Resolves in the next turn of the event loop (after I/O), when a new wave starts. */
  #wave(): Promise<void> {
    this.#nextWave ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.#waveBytes = 0;
        this.#nextWave = undefined;
        resolve();
      }),
    );
    return this.#nextWave;
  }

  async run(id: JsonRpcId, window: number, source: AsyncIterable<unknown>, call: InboundCall): Promise<StreamEnd> {
    const streamId = id as number;
    if (this.#running.has(streamId))
      return { error: new ProtocolError('GAW_ERR_BAD_FRAME', `stream ${streamId} is already running`) };
    const connection = this.#connection;
    const stream: Running = { credit: window, wake: undefined };
    this.#running.set(streamId, stream);
    const onAbort = () => stream.wake?.();
    const { signal } = call;
    signal.addEventListener('abort', onAbort);
    let iterator: AsyncIterator<unknown> | undefined;
    let isFinished = false;
    try {
      iterator = source[Symbol.asyncIterator]();
      for (;;) {
        while (
          call.abortReason === undefined &&
          !connection.isClosed &&
          (stream.credit === 0 || connection.pendingBytes > streamHighWaterBytes)
        )
          await new Promise<void>((resolve) => {
            stream.wake = resolve;
          });
        stream.wake = undefined;
        const stopped = stopReason(call, connection);
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
        // Stopped while the producer made this item: it is dropped, the producer stops here.
        const late = stopReason(call, connection);
        if (late !== undefined) return { error: late };
        const item = this.#codec.encode(step.value);
        connection.send(item, itemHead(streamId));
        stream.credit--;
        this.#waveBytes += item.length;
        if (this.#waveBytes >= streamWaveBytes) await this.#wave();
      }
    } catch (err) {
      return { error: err };
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.#running.delete(streamId);
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

/**
 * Why a stream must stop now: its call was given up on (cancel, deadline: an AbortError, which
 * handler-outcome.ts answers with the call's reason) or its connection is gone; undefined otherwise.
 */
function stopReason(call: InboundCall, connection: Connection): Error | undefined {
  const reason = call.abortReason;
  if (reason !== undefined) return new AbortError('the stream was stopped', { cause: reason });
  if (connection.isClosed) return new ConnectionError('GAW_ERR_CONN_CLOSED', "the caller's connection closed");
  return undefined;
}
