// An authenticated GAWP/1 connection over a net.Socket, after the handshake: sends messages
// (its Outbox coalesces them per tick into DATA frames of up to 64 KiB), receives them (its Inbox
// opens frames and times them), carries CLOSE for graceful drain, pauses reading for the owner or
// for backpressure, and keeps the idle timeout. Knows nothing of JSON-RPC or codecs.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { ConnectionError, ProtocolError, TimeoutError } from '../errors.js';
import type { GawError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { Logger } from '../log.js';
import { cancelEntry } from './call-context.js';
import type { EntryHead } from './frame.js';
import { Inbox } from './inbox.js';
import type { PostofficeLimits } from './options.js';
import { Outbox } from './outbox.js';
import type { ConnectionEvents, Session } from './connection-types.js';
import { codecNames, frameTypes, suiteNames } from './suite.js';
import type { CodecName, SuiteName } from './suite.js';

export type { ConnectionEvents, Session } from './connection-types.js';

const EMPTY = Buffer.alloc(0);

export class Connection extends EventEmitter<ConnectionEvents> {
  readonly #socket: Socket;
  readonly #session: Session;
  readonly #limits: PostofficeLimits;
  readonly #logger: Logger;
  readonly #inbox: Inbox;
  readonly #outbox: Outbox;
  #hasSentClose = false;
  #isClosed = false;
  #isEnding = false;
  #isPausedByBackpressure = false;
  #isPausedByOwner = false;
  #hasPeerEnded = false;
  #isBusy = false;
  #isIdleTimerArmed = false;
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
    this.#outbox = new Outbox(socket, session.sealer, limits, session.callContext !== undefined, {
      fail: (err) => this.#fail(err),
      highWater: () => {
        if (this.#isPausedByBackpressure) return;
        this.#isPausedByBackpressure = true;
        this.#pause();
      },
    });
    this.#inbox = new Inbox(session, limits, {
      message: (message, context) => this.emit('message', message, context),
      cancel: (idText) => this.emit('cancel', idText),
      closeReceived: () => this.emit('closeReceived'),
      item: (streamId, value) => this.emit('item', streamId, value),
      credit: (streamId, credit) => this.emit('credit', streamId, credit),
      fail: (err) => this.#fail(err),
      isReading: () => !this.isReadingPaused,
    });
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
    return this.#hasSentClose || this.#inbox.hasReceivedClose || this.#isEnding || this.#hasPeerEnded || this.#isClosed;
  }

  /** True while reading from the peer is paused (by the owner, or because the peer stopped reading). */
  get isReadingPaused(): boolean {
    return this.#isPausedByOwner || this.#isPausedByBackpressure;
  }

  /** Chunks read from the socket so far: when it changes, the peer has sent something (even part of a frame). */
  get chunksReceived(): number {
    return this.#inbox.chunksReceived;
  }

  /** Bytes read from and written to the socket so far, the handshake's included (for metrics). */
  get bytesReceived(): number {
    return this.#socket.bytesRead;
  }
  get bytesSent(): number {
    return this.#socket.bytesWritten;
  }

  /** Bytes written to the socket but not yet sent, plus messages queued for this tick. */
  get pendingBytes(): number {
    return this.#socket.writableLength + this.#outbox.queuedBytes;
  }

  /** The largest message `send` accepts (less the context kind byte; a request's context counts too). */
  get maxMessageBytes(): number {
    return this.#outbox.maxMessageBytes;
  }

  /** Queues a message (bytes, or UTF-8 text; one tick's go in one DATA frame). Throws when closed or too big. */
  send(message: Buffer | string, head?: EntryHead): void {
    if (!this.#canSend) {
      const reason =
        this.#hasPeerEnded && !this.#isClosed ? 'the peer closed the connection' : 'the connection is closed';
      throw new ConnectionError('GAW_ERR_CONN_CLOSED', reason, { mayHaveReachedServer: false });
    }
    this.#outbox.push(message, head);
  }

  /** True when both sides speak the call-context extension: send() takes a context head, cancel() works. */
  get hasCallContext(): boolean {
    return this.#outbox.hasHeads;
  }

  /** Tells the server the request with id `id` is no longer wanted; false without call context or when closed. */
  sendCancel(id: number | string): boolean {
    if (!this.#outbox.hasHeads || !this.#canSend) return false;
    this.send(cancelEntry(id), EMPTY);
    return true;
  }

  /** Both sides speak the stream extension: send() takes item heads and credit entries (stream-entries.ts). */
  get hasStreams(): boolean {
    return this.#session.hasStreams === true && this.#outbox.hasHeads;
  }

  get #canSend(): boolean {
    return !(this.#isClosed || this.#isEnding || this.#hasPeerEnded);
  }

  /** Sends CLOSE once (after any queued messages): graceful drain. */
  sendClose(): void {
    if (this.#hasSentClose || !this.#canSend) return;
    this.#hasSentClose = true;
    this.#outbox.flush();
    this.#outbox.writeFrame(frameTypes.close, EMPTY);
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
    this.#outbox.flush();
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

  #onDrain(): void {
    if (this.#isPausedByBackpressure) {
      this.#isPausedByBackpressure = false;
      this.#resumeIfAllowed();
    }
    this.emit('drain');
  }

  /** While we are not reading, a stalled frame is our doing, not the peer's: its clock stops. */
  #pause(): void {
    this.#socket.pause();
    this.#inbox.stopClock();
    this.#updateIdleTimer();
  }

  #resumeIfAllowed(): void {
    if (this.#isPausedByOwner || this.#isPausedByBackpressure || this.#isClosed) return;
    this.#socket.resume();
    this.#inbox.resumeClock();
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

  #onPeerEnd(): void {
    // Without half-open sockets Node ends our side too: nothing queued can be sent any more.
    this.#hasPeerEnded = true;
    this.#outbox.clear();
  }

  #receive(chunk: Buffer): void {
    this.#inbox.push(chunk);
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
    const isClean = this.#inbox.bufferedBytes === 0;
    this.#finish(
      isClean
        ? undefined
        : new ConnectionError('GAW_ERR_CONN_CLOSED', 'the connection closed in the middle of a frame'),
    );
  }

  #finish(err: GawError | undefined): void {
    this.#isClosed = true;
    this.#outbox.clear();
    // The owner may have destroyed the connection while handling one message of a frame: stop there.
    this.#inbox.stop();
    this.#socket.setTimeout(0);
    this.emit('close', err);
  }
}
