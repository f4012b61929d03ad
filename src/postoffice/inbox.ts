// The receiving half of a Connection: socket chunks go through the FrameDecoder, each frame is
// opened (authenticated) and unpacked into its messages in order (with the call-context extension,
// entries: messages, calls with their context, cancels; with the stream extension items and
// credit too), a CLOSE is reported once, and each frame
// that has started must complete within frameTimeoutMs (a clock the owner stops while it is not
// reading). Sends nothing and knows nothing of pausing or closing (connection.ts does).
import { GawError, ProtocolError, TimeoutError } from '../errors.js';
import { entryKinds, readCallEntry, readCancelEntry } from './call-context.js';
import type { WireContext } from './call-context.js';
import { FrameDecoder, unpackEntries, unpackMessages } from './frame.js';
import { readCreditEntry, readItemEntry, streamEntryKinds } from './stream-entries.js';
import type { Opener } from './seal.js';
import { frameTypes } from './suite.js';

export interface InboxEvents {
  /** One message, a view valid until this returns, with its call context if it came with one. Not after stop(). */
  message(message: Buffer, context: WireContext | undefined): void;
  /** The client cancelled the request whose id has this JSON text (call-context extension, server side). */
  cancel(idText: string): void;
  /** An item of stream `streamId` (stream extension, client side): a view valid until this returns. */
  item(streamId: number, value: Buffer): void;
  /** The client granted `credit` more items on stream `streamId` (stream extension, server side). */
  credit(streamId: number, credit: number): void;
  /** The peer sent CLOSE (reported once). */
  closeReceived(): void;
  /** A bad frame or a frame past its deadline: the connection must go. */
  fail(err: GawError): void;
  /** False while reading is paused (perhaps by the owner, while handling a message): no frame clock then. */
  isReading(): boolean;
}

export class Inbox {
  readonly #decoder: FrameDecoder;
  readonly #opener: Opener;
  readonly #callContext: 'client' | 'server' | undefined;
  readonly #hasStreams: boolean;
  readonly #frameTimeoutMs: number;
  readonly #events: InboxEvents;
  /** Frames accepted so far: a change tells a new frame has started since the timer was set. */
  #framesReceived = 0;
  #chunksReceived = 0;
  #hasReceivedClose = false;
  #isStopped = false;
  #frameTimer: NodeJS.Timeout | undefined;
  readonly #onFrame = (frame: Buffer) => this.#handleFrame(frame);
  readonly #onMessage = (message: Buffer) => {
    if (!this.#isStopped) this.#events.message(message, undefined);
  };
  readonly #onEntry = (payload: Buffer, start: number, end: number) => {
    if (this.#isStopped) return;
    const kind = payload[start];
    if (kind === entryKinds.message) {
      if (end - start < 2) throw new ProtocolError('GAW_ERR_BAD_FRAME', 'bad call-context entry: an empty message');
      this.#events.message(payload.subarray(start + 1, end), undefined);
    } else if (kind === entryKinds.call && this.#callContext === 'server') {
      // What our own client sends: a context of exactly one budget field, read without a parse.
      if (
        end - start > 9 &&
        payload[start + 1] === 0 &&
        payload[start + 2] === 6 &&
        payload[start + 3] === 1 &&
        payload[start + 4] === 4
      ) {
        this.#events.message(payload.subarray(start + 9, end), { budgetMs: payload.readUInt32BE(start + 5) });
        return;
      }
      const entry = payload.subarray(start, end);
      const { context, messageAt } = readCallEntry(entry, this.#hasStreams);
      this.#events.message(entry.subarray(messageAt), context);
    } else if (kind === entryKinds.cancel && this.#callContext === 'server') {
      this.#events.cancel(readCancelEntry(payload.subarray(start, end)));
    } else if (kind === streamEntryKinds.item && this.#hasStreams && this.#callContext === 'client') {
      const streamId = readItemEntry(payload.subarray(start, end));
      this.#events.item(streamId, payload.subarray(start + 5, end));
    } else if (kind === streamEntryKinds.credit && this.#hasStreams && this.#callContext === 'server') {
      const { streamId, credit } = readCreditEntry(payload.subarray(start, end));
      this.#events.credit(streamId, credit);
    } else {
      throw new ProtocolError('GAW_ERR_BAD_FRAME', `bad call-context entry: kind ${kind} is not allowed here`);
    }
  };

  constructor(
    session: { suite: number; opener: Opener; callContext?: 'client' | 'server' | undefined; hasStreams?: boolean },
    limits: { maxPayloadBytes: number; frameTimeoutMs: number },
    events: InboxEvents,
  ) {
    this.#decoder = new FrameDecoder({ suite: session.suite, maxPayloadBytes: limits.maxPayloadBytes });
    this.#opener = session.opener;
    this.#callContext = session.callContext;
    this.#hasStreams = session.hasStreams === true && session.callContext !== undefined;
    this.#frameTimeoutMs = limits.frameTimeoutMs;
    this.#events = events;
  }

  /** Chunks read from the socket so far: when it changes, the peer has sent something (even part of a frame). */
  get chunksReceived(): number {
    return this.#chunksReceived;
  }

  get hasReceivedClose(): boolean {
    return this.#hasReceivedClose;
  }

  /** Bytes of a frame not yet complete. */
  get bufferedBytes(): number {
    return this.#decoder.bufferedBytes;
  }

  /** Handles one chunk from the socket (nothing after stop()). */
  push(chunk: Buffer): void {
    if (this.#isStopped) return;
    this.#chunksReceived++;
    const framesBefore = this.#framesReceived;
    try {
      this.#decoder.push(chunk, this.#onFrame);
    } catch (err) {
      this.#events.fail(
        err instanceof GawError
          ? err
          : new ProtocolError('GAW_ERR_BAD_FRAME', 'receiving a frame failed', { cause: err }),
      );
      return;
    }
    if (this.#isStopped) return;
    if (!this.#decoder.hasPartialFrame) this.stopClock();
    else if (this.#frameTimer === undefined || this.#framesReceived !== framesBefore) {
      // Each frame gets its own deadline from the chunk that started it.
      if (this.#events.isReading()) this.#startClock();
    }
  }

  /** Reading resumed: a frame already started gets a fresh deadline. */
  resumeClock(): void {
    if (this.#decoder.hasPartialFrame) this.#startClock();
  }

  /**
   * The connection closed (perhaps by the owner while handling a message of a frame): nothing more
   * is delivered, and the clock stops.
   */
  stop(): void {
    this.#isStopped = true;
    this.stopClock();
  }

  /** Reading paused: a stalled frame is then not the peer's doing. */
  stopClock(): void {
    if (this.#frameTimer !== undefined) clearTimeout(this.#frameTimer);
    this.#frameTimer = undefined;
  }

  #startClock(): void {
    this.stopClock();
    this.#frameTimer = setTimeout(() => {
      this.#events.fail(
        new TimeoutError('GAW_ERR_FRAME_TIMEOUT', `a frame did not complete within ${this.#frameTimeoutMs} ms`),
      );
    }, this.#frameTimeoutMs).unref();
  }

  #handleFrame(frame: Buffer): void {
    if (this.#isStopped) return;
    const { type, payload } = this.#opener.open(frame);
    this.#framesReceived++;
    if (type === frameTypes.data) {
      if (this.#callContext === undefined) unpackMessages(payload, this.#onMessage);
      else unpackEntries(payload, this.#onEntry);
    } else if (type === frameTypes.close) {
      if (payload.length !== 0) throw new ProtocolError('GAW_ERR_BAD_FRAME', 'a CLOSE frame must be empty');
      if (this.#hasReceivedClose) return;
      this.#hasReceivedClose = true;
      this.#events.closeReceived();
    } else {
      throw new ProtocolError('GAW_ERR_BAD_FRAME', `unknown frame type ${type}`);
    }
  }
}
