// An authenticated GAWP/1 connection over a net.Socket, after the handshake: sends messages
// (coalesced per tick into DATA frames of up to 64 KiB), receives them, carries CLOSE for
// graceful drain, and enforces backpressure and the frame and idle timeouts. Knows nothing of
// JSON-RPC or codecs.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { ConnectionError, GawError, ProtocolError, TimeoutError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { Logger } from '../log.js';
import { MESSAGE_HEAD, cancelEntry, entryKinds, readCallEntry, readCancelEntry } from './call-context.js';
import type { WireContext } from './call-context.js';
import {
  FrameDecoder,
  LEN_BYTES,
  MAX_MESSAGES_PER_FRAME,
  entryHeadBytes,
  packMessages,
  unpackMessages,
} from './frame.js';
import type { EntryHead } from './frame.js';
import type { PostofficeLimits } from './options.js';
import type { Opener, Sealer } from './seal.js';
import { codecNames, frameTypes, suiteNames } from './suite.js';
import type { CodecName, SuiteName } from './suite.js';

/** What the handshake settled on, and the per-direction sealer and opener it keyed. */
export interface Session {
  suite: number;
  codec: number;
  keyId: number;
  hasForwardSecrecy: boolean;
  sealer: Sealer;
  opener: Opener;
  /**
   * Set when both hellos carried the CTX flag: which side this is, so it knows which entry kinds it
   * may receive (a server takes calls with context and cancels; a client only plain messages).
   */
  callContext?: 'client' | 'server' | undefined;
}

/**
 * Messages queued in one tick share a frame up to this many bytes; past it the frame leaves at
 * once and the next one starts. A 64-message burst of 16 KiB messages then streams as 16 frames
 * the peer starts on while the rest is still being encoded, instead of one 1 MiB frame that
 * neither side can touch until it is whole (measured: +50-80 % calls/s at 16 KiB, 64 in flight).
 */
const COALESCE_MAX_BYTES = 64 * 1024;

const EMPTY = Buffer.alloc(0);

/** Frames with a payload this large are written as pieces (writev) rather than joined first. */
const WRITEV_MIN_BYTES = 16 * 1024;

export interface ConnectionEvents {
  /**
   * One message (a view valid until the listener returns; copy it to keep it), with the context
   * the client sent with it when the call-context extension is on (call-context.ts).
   */
  message: [message: Buffer, context: WireContext | undefined];
  /** The client cancelled the request whose id has this JSON text (call-context extension only). */
  cancel: [idText: string];
  /** The peer sent CLOSE: it will send no more requests (client) or take no new ones (server). */
  goaway: [];
  /** Emitted once; `err` is set when the connection failed rather than closed cleanly. */
  close: [err: GawError | undefined];
  /** The socket's unsent output fell back below the high-water mark. */
  drain: [];
}

export class Connection extends EventEmitter<ConnectionEvents> {
  readonly #socket: Socket;
  readonly #session: Session;
  readonly #limits: PostofficeLimits;
  readonly #logger: Logger;
  readonly #decoder: FrameDecoder;
  readonly #coalesceBytes: number;
  #queue: Buffer[] = [];
  /** With the call-context extension: the entry head (kind byte, context) of each queued message. */
  #heads: EntryHead[] | undefined;
  #queueBytes = 0;
  #isFlushScheduled = false;
  #hasSentClose = false;
  #hasReceivedClose = false;
  #isClosed = false;
  #isEnding = false;
  #isPausedByBackpressure = false;
  #isPausedByOwner = false;
  #hasPeerEnded = false;
  #isBusy = false;
  #isIdleTimerArmed = false;
  /** Frames accepted so far: a change tells a new frame has started since the timer was set. */
  #framesReceived = 0;
  #chunksReceived = 0;
  #frameTimer: NodeJS.Timeout | undefined;
  readonly #flush = () => this.#flushQueue();
  readonly #onFrame = (frame: Buffer) => this.#handleFrame(frame);
  readonly #onMessage = (message: Buffer) => {
    // The owner may destroy the connection while handling one message of a frame: stop there.
    if (!this.#isClosed) this.emit('message', message, undefined);
  };
  readonly #onEntry = (entry: Buffer) => {
    if (this.#isClosed) return;
    const kind = entry[0];
    if (kind === entryKinds.message) {
      if (entry.length < 2) throw new ProtocolError('GAW_ERR_BAD_FRAME', 'bad call-context entry: an empty message');
      this.emit('message', entry.subarray(1), undefined);
    } else if (kind === entryKinds.call && this.#session.callContext === 'server') {
      // What our own client sends: a context of exactly one budget field, read without a parse.
      if (entry.length > 9 && entry[1] === 0 && entry[2] === 6 && entry[3] === 1 && entry[4] === 4) {
        this.emit('message', entry.subarray(9), { budgetMs: entry.readUInt32BE(5) });
        return;
      }
      const { context, messageAt } = readCallEntry(entry);
      this.emit('message', entry.subarray(messageAt), context);
    } else if (kind === entryKinds.cancel && this.#session.callContext === 'server') {
      this.emit('cancel', readCancelEntry(entry));
    } else {
      throw new ProtocolError('GAW_ERR_BAD_FRAME', `bad call-context entry: kind ${kind} is not allowed here`);
    }
  };
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(
    socket: Socket,
    session: Session,
    limits: PostofficeLimits,
    logger: Logger = silentLogger,
    initialBytes?: Buffer,
  ) {
    super();
    this.#socket = socket;
    this.#session = session;
    this.#limits = limits;
    this.#logger = logger;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.#coalesceBytes = Math.min(limits.maxPayloadBytes, COALESCE_MAX_BYTES);
    if (session.callContext !== undefined) this.#heads = [];
    this.#decoder = new FrameDecoder({ suite: session.suite, maxPayloadBytes: limits.maxPayloadBytes });
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('drain', () => this.#onDrain());
    socket.on('error', (err) =>
      this.#fail(new ConnectionError('GAW_ERR_CONN_CLOSED', `connection failed: ${err.message}`, { cause: err })),
    );
    socket.on('close', () => this.#onSocketClose());
    socket.on('end', () => this.#onPeerEnd());
    if (limits.idleTimeoutMs > 0) {
      this.#isIdleTimerArmed = true;
      socket.setTimeout(limits.idleTimeoutMs, () => {
        this.#fail(new TimeoutError('GAW_ERR_IDLE_TIMEOUT', `no traffic for ${limits.idleTimeoutMs} ms`));
      });
    }
    if (initialBytes && initialBytes.length > 0) {
      // Bytes that arrived with the end of the handshake; handled after the owner has attached.
      process.nextTick(() => this.#receive(initialBytes));
    }
    socket.resume();
    // A socket that died while the handshake finished still reports its close, once.
    if (socket.destroyed) process.nextTick(() => this.#onSocketClose());
  }

  get suite(): SuiteName {
    return suiteNames[this.#session.suite]!;
  }

  get codec(): CodecName {
    return codecNames[this.#session.codec]!;
  }

  get keyId(): number {
    return this.#session.keyId;
  }

  get hasForwardSecrecy(): boolean {
    return this.#session.hasForwardSecrecy;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** True once either side sent CLOSE or the connection is ending: no new requests belong here. */
  get isDraining(): boolean {
    return this.#hasSentClose || this.#hasReceivedClose || this.#isEnding || this.#hasPeerEnded || this.#isClosed;
  }

  /** True while reading from the peer is paused (by the owner, or because the peer stopped reading). */
  get isReadingPaused(): boolean {
    return this.#isPausedByOwner || this.#isPausedByBackpressure;
  }

  /** Chunks read from the socket so far: when it changes, the peer has sent something (even part of a frame). */
  get chunksReceived(): number {
    return this.#chunksReceived;
  }

  /** Bytes written to the socket but not yet sent, plus messages queued for this tick. */
  get pendingBytes(): number {
    return this.#socket.writableLength + this.#queueBytes;
  }

  /**
   * The largest message `send` accepts (with the call-context extension, less its kind byte; a
   * request's context counts against the frame cap too).
   */
  get maxMessageBytes(): number {
    return this.#limits.maxPayloadBytes - LEN_BYTES - (this.#heads === undefined ? 0 : 1);
  }

  /**
   * Queues one message. Messages queued in the same tick leave together in one DATA frame, split
   * every 64 KiB (a larger message goes alone). Throws ConnectionError when closed, ProtocolError
   * when the message is too big.
   */
  send(message: Buffer, head?: EntryHead): void {
    if (this.#isClosed || this.#isEnding || this.#hasPeerEnded) {
      throw new ConnectionError(
        'GAW_ERR_CONN_CLOSED',
        this.#hasPeerEnded && !this.#isClosed ? 'the peer closed the connection' : 'the connection is closed',
        { mayHaveReachedServer: false },
      );
    }
    if (message.length === 0) throw new ProtocolError('GAW_ERR_BAD_FRAME', 'a message cannot be empty');
    const heads = this.#heads;
    const entryHead = heads === undefined ? undefined : (head ?? MESSAGE_HEAD);
    const size = LEN_BYTES + message.length + (entryHead === undefined ? 0 : entryHeadBytes(entryHead));
    if (size > this.#limits.maxPayloadBytes) {
      throw new ProtocolError(
        'GAW_ERR_FRAME_TOO_LARGE',
        `a message of ${message.length} bytes exceeds the ${this.#limits.maxPayloadBytes}-byte frame cap`,
      );
    }
    if (this.#queueBytes + size > this.#coalesceBytes || this.#queue.length >= MAX_MESSAGES_PER_FRAME)
      this.#flushQueue();
    this.#queue.push(message);
    if (entryHead !== undefined) this.#heads!.push(entryHead);
    this.#queueBytes += size;
    if (!this.#isFlushScheduled) {
      this.#isFlushScheduled = true;
      process.nextTick(this.#flush);
    }
  }

  /** True when both sides speak the call-context extension: send() takes a context head, cancel() works. */
  get hasCallContext(): boolean {
    return this.#heads !== undefined;
  }

  /**
   * Tells the server that the request with JSON-RPC id `id` is no longer wanted (call-context
   * extension; false without it, or when the connection can no longer send).
   */
  sendCancel(id: number | string): boolean {
    if (this.#heads === undefined || this.#isClosed || this.#isEnding || this.#hasPeerEnded) return false;
    this.send(cancelEntry(id), EMPTY);
    return true;
  }

  /** Sends CLOSE once (after any queued messages): graceful drain. */
  sendClose(): void {
    if (this.#hasSentClose || this.#isClosed || this.#isEnding || this.#hasPeerEnded) return;
    this.#hasSentClose = true;
    this.#flushQueue();
    this.#writeFrame(frameTypes.close, Buffer.alloc(0));
  }

  /** Stops reading from the peer (the owner's flow control, e.g. an in-flight cap). */
  pauseReading(): void {
    this.#isPausedByOwner = true;
    this.#pause();
  }

  resumeReading(): void {
    this.#isPausedByOwner = false;
    this.#resumeIfAllowed();
  }

  /**
   * While busy (the owner has calls in flight) the idle timeout is suspended: a long call is not
   * idleness. Setting it back to false starts a fresh idle period. While reading is paused the
   * timeout runs even when busy: then nothing is read, so only it can notice a peer that is gone.
   */
  setBusy(isBusy: boolean): void {
    if (this.#isBusy === isBusy || this.#isClosed) return;
    this.#isBusy = isBusy;
    this.#updateIdleTimer();
  }

  /** Flushes queued messages, then closes gracefully (FIN). Idempotent. */
  end(): void {
    if (this.#isEnding || this.#isClosed) return;
    this.#flushQueue();
    this.#isEnding = true;
    this.#socket.end();
  }

  /** Like end(), and resolves once the connection has closed (at once if it already has). */
  close(): Promise<void> {
    if (this.#isClosed) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.once('close', () => resolve()));
    this.end();
    return closed;
  }

  /** Closes now, dropping anything unsent. Idempotent. */
  destroy(err?: GawError): void {
    if (this.#isClosed) return;
    this.#finish(err);
    this.#socket.destroy();
  }

  #flushQueue(): void {
    this.#isFlushScheduled = false;
    if (this.#queue.length === 0 || this.#isClosed || this.#hasPeerEnded) return;
    const payload = packMessages(this.#queue, this.#queueBytes, this.#heads);
    this.#queue = [];
    if (this.#heads !== undefined) this.#heads = [];
    this.#queueBytes = 0;
    this.#writeFrame(frameTypes.data, payload);
  }

  #writeFrame(type: number, payload: Buffer): void {
    let parts: Buffer[];
    try {
      parts = this.#session.sealer.sealParts(type, payload);
    } catch (err) {
      this.#fail(
        err instanceof GawError
          ? err
          : new ProtocolError('GAW_ERR_BAD_FRAME', 'sealing a frame failed', { cause: err }),
      );
      return;
    }
    if (payload.length < WRITEV_MIN_BYTES) {
      this.#socket.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    } else {
      // A large frame leaves as one writev of its pieces: the payload is not copied again.
      this.#socket.cork();
      for (const part of parts) this.#socket.write(part);
      this.#socket.uncork();
    }
    const pending = this.#socket.writableLength;
    if (pending > this.#limits.maxPendingWriteBytes) {
      this.#fail(
        new ConnectionError(
          'GAW_ERR_BACKPRESSURE',
          `the peer stopped reading and ${pending} bytes are waiting to be sent`,
        ),
      );
    } else if (pending > this.#limits.highWaterBytes && !this.#isPausedByBackpressure) {
      this.#isPausedByBackpressure = true;
      this.#pause();
    }
  }

  #onDrain(): void {
    if (!this.#isPausedByBackpressure) return;
    this.#isPausedByBackpressure = false;
    this.#resumeIfAllowed();
    this.emit('drain');
  }

  /** While we are not reading, a stalled frame is our doing, not the peer's: its clock stops. */
  #pause(): void {
    this.#socket.pause();
    this.#stopFrameTimer();
    this.#updateIdleTimer();
  }

  #resumeIfAllowed(): void {
    if (this.#isPausedByOwner || this.#isPausedByBackpressure || this.#isClosed) return;
    this.#socket.resume();
    if (this.#decoder.hasPartialFrame) this.#startFrameTimer();
    this.#updateIdleTimer();
  }

  /** Arms the idle timeout when it applies (not busy, or not reading), disarms it otherwise; only on a change. */
  #updateIdleTimer(): void {
    const timeoutMs = this.#limits.idleTimeoutMs;
    if (timeoutMs === 0 || this.#isClosed) return;
    const isArmed = !this.#isBusy || this.isReadingPaused;
    if (isArmed === this.#isIdleTimerArmed) return;
    this.#isIdleTimerArmed = isArmed;
    this.#socket.setTimeout(isArmed ? timeoutMs : 0);
  }

  #startFrameTimer(): void {
    this.#stopFrameTimer();
    this.#frameTimer = setTimeout(() => {
      this.#fail(
        new TimeoutError('GAW_ERR_FRAME_TIMEOUT', `a frame did not complete within ${this.#limits.frameTimeoutMs} ms`),
      );
    }, this.#limits.frameTimeoutMs).unref();
  }

  #stopFrameTimer(): void {
    if (this.#frameTimer !== undefined) clearTimeout(this.#frameTimer);
    this.#frameTimer = undefined;
  }

  #onPeerEnd(): void {
    // Without half-open sockets Node ends our side too: nothing queued can be sent any more.
    this.#hasPeerEnded = true;
    this.#queue = [];
    if (this.#heads !== undefined) this.#heads = [];
    this.#queueBytes = 0;
  }

  #receive(chunk: Buffer): void {
    if (this.#isClosed) return;
    this.#chunksReceived++;
    const framesBefore = this.#framesReceived;
    try {
      this.#decoder.push(chunk, this.#onFrame);
    } catch (err) {
      this.#fail(
        err instanceof GawError
          ? err
          : new ProtocolError('GAW_ERR_BAD_FRAME', 'receiving a frame failed', { cause: err }),
      );
      return;
    }
    if (this.#isClosed) return;
    if (!this.#decoder.hasPartialFrame) this.#stopFrameTimer();
    else if (this.#frameTimer === undefined || this.#framesReceived !== framesBefore) {
      // Each frame gets its own deadline from the chunk that started it.
      if (!this.isReadingPaused) this.#startFrameTimer();
    }
  }

  #handleFrame(frame: Buffer): void {
    if (this.#isClosed) return;
    const { type, payload } = this.#session.opener.open(frame);
    this.#framesReceived++;
    if (type === frameTypes.data) {
      unpackMessages(payload, this.#heads === undefined ? this.#onMessage : this.#onEntry);
    } else if (type === frameTypes.close) {
      if (payload.length !== 0) throw new ProtocolError('GAW_ERR_BAD_FRAME', 'a CLOSE frame must be empty');
      if (this.#hasReceivedClose) return;
      this.#hasReceivedClose = true;
      this.emit('goaway');
    } else {
      throw new ProtocolError('GAW_ERR_BAD_FRAME', `unknown frame type ${type}`);
    }
  }

  #fail(err: GawError): void {
    if (this.#isClosed) return;
    if (err instanceof ProtocolError) {
      this.#logger.warn(
        { peer: `${this.remoteAddress}:${this.remotePort}`, code: err.code },
        'connection closed: protocol violation',
      );
    }
    this.destroy(err);
  }

  #onSocketClose(): void {
    if (this.#isClosed) return;
    const isClean = this.#decoder.bufferedBytes === 0;
    this.#finish(
      isClean
        ? undefined
        : new ConnectionError('GAW_ERR_CONN_CLOSED', 'the connection closed in the middle of a frame'),
    );
  }

  #finish(err: GawError | undefined): void {
    this.#isClosed = true;
    this.#queue = [];
    if (this.#heads !== undefined) this.#heads = [];
    this.#queueBytes = 0;
    this.#stopFrameTimer();
    this.#socket.setTimeout(0);
    this.emit('close', err);
  }
}
