// One authenticated GAWP/1 connection as GawServer serves it: decodes each message, runs it through
// the Dispatcher, sends the reply as soon as it is ready, holds calls in flight under a cap (past
// it reading pauses and messages already read wait their turn, in order), and drains on CLOSE.
// Knows nothing of listening, services or the server's close deadline (server.ts owns those).
import { ProtocolError } from '../errors.js';
import type { Logger } from '../log.js';
import { repairReply, rpcErrorCodes } from '../jsonrpc/index.js';
import type { Connection, WireContext } from '../postoffice/index.js';
import type { Codec } from '../serializable/index.js';
import type { Dispatcher } from './dispatch.js';
import { InboundCalls } from './inbound-call.js';
import type { CallOrigin } from './inbound-call.js';

export interface ServedConnectionOptions {
  dispatcher: Dispatcher;
  codec: Codec;
  /** Messages (a request, a notification or a whole batch) running at once on this connection. */
  maxInFlight: number;
  logger: Logger;
}

const shuttingDown = 'the server is shutting down; the request was not run';

/** Undecodable messages answered with -32700 before the connection is closed instead. */
export const maxParseErrors = 64;

const pingMethod = Buffer.from('rpc.ping');
const undecodable: unique symbol = Symbol('undecodable');

export class ServedConnection {
  readonly connection: Connection;
  readonly #dispatcher: Dispatcher;
  readonly #codec: Codec;
  readonly #maxInFlight: number;
  readonly #logger: Logger;
  #running = 0;
  /**
   * Messages read while `#running` was at the cap, oldest at `#waitingHead`. Reading pauses at the
   * cap and stays paused until this is empty, so it holds only what the read that reached the cap
   * had already brought: the rest of the frame it completed (at most 4,096 messages, the postoffice's
   * cap per frame) and the whole frames after it in that read (Node reads at most 64 KiB at a time:
   * about 13,000 one-byte messages). So some 17,000 messages at worst, never more bytes than one
   * frame and one read, and nothing needs refusing for lack of room.
   */
  #waiting: Buffer[] = [];
  /** Where each waiting message came from, with its context: its budget counts from when it was read. */
  #waitingOrigins: CallOrigin[] = [];
  #waitingHead = 0;
  /** Requests running, for CANCEL (call-context extension) and for aborting them when the peer leaves. */
  readonly #calls = new InboundCalls();
  /** The origin of messages without a context (no deadline): one per connection. */
  readonly #plainOrigin: CallOrigin;
  #isReadingPaused = false;
  #hasPeerClosed = false;
  #isServerClosing = false;
  #parseErrors = 0;

  constructor(connection: Connection, options: ServedConnectionOptions) {
    this.connection = connection;
    this.#dispatcher = options.dispatcher;
    this.#codec = options.codec;
    this.#maxInFlight = options.maxInFlight;
    this.#logger = options.logger;
    const peer = `${connection.remoteAddress}:${connection.remotePort}`;
    this.#plainOrigin = Object.freeze({ peer, wire: undefined, receivedAt: 0, calls: this.#calls });
    connection.on('message', (bytes, wire) => this.#receive(bytes, this.#originOf(wire)));
    connection.on('cancel', (idText) => this.#cancel(idText));
    connection.on('goaway', () => {
      // The client sends no more requests: finish what it sent, then end.
      this.#hasPeerClosed = true;
      this.#maybeEnd();
    });
    connection.on('close', () => {
      this.#waiting = [];
      this.#waitingOrigins = [];
      this.#waitingHead = 0;
      // Nobody is left to read the replies: every handler still running is told (its signal aborts).
      this.#calls.abortAll();
    });
  }

  /** Messages running or waiting for a slot. */
  get inFlight(): number {
    return this.#running + this.#waiting.length - this.#waitingHead;
  }

  /**
   * The server is closing: sends CLOSE, refuses (-32001, not run) what has not started yet and
   * whatever arrives later, and ends once nothing runs and the client has said CLOSE or FIN.
   */
  beginClose(): void {
    if (this.#isServerClosing) return;
    this.#isServerClosing = true;
    this.connection.sendClose();
    while (this.#waitingHead < this.#waiting.length) this.#refuseBytes(this.#takeWaiting());
    this.#resumeIfRoom();
    this.#maybeEnd();
  }

  #originOf(wire: WireContext | undefined): CallOrigin {
    if (wire === undefined) return this.#plainOrigin;
    return { peer: this.#plainOrigin.peer, wire, receivedAt: performance.now(), calls: this.#calls };
  }

  /** CANCEL for a request running here, or still waiting for a slot (then it will not start). */
  #cancel(idText: string): void {
    this.#calls.cancel(idText);
  }

  #receive(bytes: Buffer, origin: CallOrigin): void {
    if (this.#isServerClosing || this.#hasPeerClosed) {
      // After CLOSE either way: refused unrun, so the client may safely retry elsewhere.
      this.#refuseBytes(bytes);
      return;
    }
    if (this.#running >= this.#maxInFlight || this.#waitingHead < this.#waiting.length) {
      // rpc.ping is a liveness probe (a client checking a silent connection): it answers at once,
      // outside the cap, or slow handlers would make a live server look dead.
      if (bytes.length <= 96 && bytes.includes(pingMethod) && this.#answerPing(bytes)) return;
      // The message is a view into the frame, valid only during this event: keep a copy.
      this.#waiting.push(Buffer.from(bytes));
      if (origin !== this.#plainOrigin) origin.hasWaited = true;
      this.#waitingOrigins.push(origin);
      this.#calls.hasWaiting = true;
      this.#pause();
      return;
    }
    this.#start(bytes, origin);
  }

  /** Answers a lone rpc.ping request now; false when `bytes` is anything else. */
  #answerPing(bytes: Buffer): boolean {
    let message: unknown;
    try {
      message = this.#codec.decode(bytes);
    } catch {
      return false;
    }
    if (typeof message !== 'object' || message === null || (message as { method?: unknown }).method !== 'rpc.ping')
      return false;
    this.#dispatcher.handle(message).then((reply) => {
      if (reply !== undefined) this.#reply(reply);
    });
    return true;
  }

  #start(bytes: Buffer, origin: CallOrigin): void {
    const message = this.#decode(bytes);
    if (message === undecodable) return;
    const reply = this.#dispatcher.dispatch(message, origin);
    if (!(reply instanceof Promise)) {
      // Answered synchronously: nothing stays in flight.
      if (reply !== undefined) this.#reply(reply);
      return;
    }
    if (this.#running === 0) this.connection.setBusy(true);
    this.#running++;
    if (this.#running >= this.#maxInFlight) this.#pause();
    reply.then((settled) => this.#finish(settled));
  }

  #finish(reply: unknown): void {
    this.#running--;
    if (this.connection.isClosed) return;
    if (this.#running === 0) this.connection.setBusy(false);
    if (reply !== undefined) this.#reply(reply);
    while (this.#running < this.#maxInFlight && this.#waitingHead < this.#waiting.length && !this.connection.isClosed) {
      const origin = this.#waitingOrigins[this.#waitingHead] as CallOrigin;
      this.#start(this.#takeWaiting(), origin);
    }
    if (this.#waitingHead === this.#waiting.length && this.#calls.hasWaiting) this.#calls.forgetEarly();
    this.#resumeIfRoom();
    this.#maybeEnd();
  }

  #takeWaiting(): Buffer {
    const bytes = this.#waiting[this.#waitingHead]!;
    this.#waiting[this.#waitingHead] = undefined as unknown as Buffer;
    this.#waitingOrigins[this.#waitingHead++] = undefined as unknown as CallOrigin;
    if (this.#waitingHead === this.#waiting.length) {
      this.#waiting = [];
      this.#waitingOrigins = [];
      this.#waitingHead = 0;
    }
    return bytes;
  }

  #pause(): void {
    if (this.#isReadingPaused) return;
    this.#isReadingPaused = true;
    this.connection.pauseReading();
  }

  #resumeIfRoom(): void {
    if (!this.#isReadingPaused || this.#running >= this.#maxInFlight || this.#waitingHead < this.#waiting.length)
      return;
    this.#isReadingPaused = false;
    this.connection.resumeReading();
  }

  /** Answers -32001 (not run, safe to retry) for every request in `bytes`. */
  #refuseBytes(bytes: Buffer): void {
    const message = this.#decode(bytes);
    if (message === undecodable) return;
    const refusal = this.#dispatcher.refuse(message, rpcErrorCodes.SHUTTING_DOWN, shuttingDown);
    if (refusal !== undefined) this.#reply(refusal);
  }

  /** The decoded message, or `undecodable` once the -32700 (or the disconnect) is dealt with. */
  #decode(bytes: Buffer): unknown {
    try {
      return this.#codec.decode(bytes);
    } catch (err) {
      this.#parseError(err);
      return undecodable;
    }
  }

  /**
   * Answers bytes that did not decode with -32700. Our own codecs never produce such bytes, so a
   * peer that keeps sending them is broken or hostile: past maxParseErrors it is disconnected
   * rather than answered message by message.
   */
  #parseError(err: unknown): void {
    this.#parseErrors++;
    if (this.#parseErrors > maxParseErrors) {
      this.#logger.warn(
        { peer: this.connection.remoteAddress, parseErrors: this.#parseErrors },
        'closing a connection that sends undecodable messages',
      );
      this.connection.destroy(new ProtocolError('GAW_ERR_DECODE', `more than ${maxParseErrors} undecodable messages`));
      return;
    }
    this.#reply(this.#dispatcher.parseErrorReply(err));
  }

  /**
   * Ends the connection once nothing runs or waits and the client has said CLOSE. After the
   * server's own CLOSE it waits for the client, so a request already on the wire is refused with
   * -32001 (safe to retry) rather than lost; the server's closeTimeoutMs bounds that wait.
   */
  #maybeEnd(): void {
    if (this.#hasPeerClosed && this.inFlight === 0) this.connection.end();
  }

  #reply(reply: unknown): void {
    const { connection } = this;
    if (connection.isClosed) return;
    const codec = this.#codec;
    let bytes: Buffer;
    try {
      bytes = codec.encode(reply);
    } catch (err) {
      this.#logger.warn({ err }, 'a reply could not be encoded');
      bytes = codec.encode(repairReply(reply, (value) => codec.encode(value)));
    }
    const maxBytes = connection.maxMessageBytes;
    if (bytes.length > maxBytes) {
      // Only the responses that are too large become errors; if the batch still is, all of it does.
      const tooLarge = (): never => {
        throw new Error(`the reply is ${size} bytes, over the ${maxBytes}-byte frame cap`);
      };
      const size = bytes.length;
      bytes = codec.encode(repairReply(reply, (value) => codec.encode(value).length > maxBytes && tooLarge()));
      if (bytes.length > maxBytes) bytes = codec.encode(repairReply(reply, tooLarge));
    }
    try {
      connection.send(bytes);
    } catch (err) {
      this.#logger.warn({ err, peer: connection.remoteAddress }, 'a reply could not be sent');
    }
  }
}
