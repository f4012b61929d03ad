// One authenticated GAWP/1 connection as GawServer serves it: decodes each message, runs it through
// the Dispatcher, sends each reply when ready (streams' items via served-streams.ts), holds handlers
// in flight under a cap (past it messages wait in order, within a byte budget, refused -32002 past
// that), and drains on CLOSE. It never stops reading for its own sake, so rpc.ping is answered and a
// peer that leaves is noticed however busy. Knows nothing of listening, services or close deadlines.
import { ProtocolError } from '../errors.js';
import type { Logger } from '../log.js';
import { errorResponse, readId, requestFromText, rpcErrorCodes } from '../jsonrpc/index.js';
import type { Connection, WireContext } from '../postoffice/index.js';
import type { Codec } from '../serializable/index.js';
import type { Dispatcher } from './dispatch.js';
import { InboundCalls } from './inbound-call.js';
import { ServedStreams } from './served-streams.js';
import type { CallOrigin } from './inbound-call.js';
import { encodeReply, methodOf, replyFailures, replyMessage } from './reply-encoding.js';
import { WaitingQueue } from './waiting-queue.js';

export interface ServedConnectionOptions {
  dispatcher: Dispatcher;
  codec: Codec;
  /** Handler slots per connection: a request or notification takes one, a batch one per element. */
  maxInFlight: number;
  /** Bytes of messages waiting for a slot (each charged 16 bytes more); past it they are refused -32002. */
  maxWaitingBytes: number;
  logger: Logger;
  /** Told of each message refused unrun: -32001 shutting down, -32002 overloaded (metrics). */
  onRefused?: ((code: number) => void) | undefined;
}

const shuttingDown = 'the server is shutting down; the request was not run';
const overloaded = 'the server is busy: too many requests are waiting on this connection; the request was not run';

/** Undecodable messages answered with -32700 before the connection is closed instead. */
export const maxParseErrors = 64;

/** What a waiting message's call context costs besides: its origin and strings (at most 1 KiB on the wire). */
const contextOverheadBytes = 512;
const pingMethod = Buffer.from('rpc.ping');
const undecodable: unique symbol = Symbol('undecodable');

export class ServedConnection {
  readonly connection: Connection;
  readonly #dispatcher: Dispatcher;
  readonly #codec: Codec;
  readonly #maxInFlight: number;
  readonly #maxWaitingBytes: number;
  readonly #logger: Logger;
  readonly #onRefused: ((code: number) => void) | undefined;
  /** Handler slots taken. */
  #running = 0;
  /** Messages read while no slot was free, in order, with where each came from (its budget counts from then). */
  readonly #waiting: WaitingQueue<CallOrigin>;
  /** A decoded batch at the head of the line, waiting for as many free slots as it has elements. */
  #blocked: { batch: unknown[]; origin: CallOrigin } | undefined;
  /** Requests running, for CANCEL (call-context extension) and for aborting them when the peer leaves. */
  readonly #calls = new InboundCalls();
  /** The origin of messages without a context (no deadline): one per connection. */
  readonly #plainOrigin: CallOrigin;
  #hasPeerClosed = false;
  #isServerClosing = false;
  #parseErrors = 0;

  constructor(connection: Connection, options: ServedConnectionOptions) {
    this.connection = connection;
    this.#dispatcher = options.dispatcher;
    this.#codec = options.codec;
    this.#maxInFlight = options.maxInFlight;
    this.#maxWaitingBytes = options.maxWaitingBytes;
    this.#logger = options.logger;
    this.#onRefused = options.onRefused;
    const peer = `${connection.remoteAddress}:${connection.remotePort}`;
    const streams = connection.hasStreams ? new ServedStreams(connection, this.#codec, this.#logger) : undefined;
    this.#plainOrigin = Object.freeze({ peer, wire: undefined, receivedAt: 0, calls: this.#calls, streams });
    this.#waiting = new WaitingQueue((origin) => (origin === this.#plainOrigin ? 0 : contextOverheadBytes));
    connection.on('message', (bytes, wire) => this.#receive(bytes, this.#originOf(wire)));
    connection.on('cancel', (idText) => this.#calls.cancel(idText));
    connection.on('closeReceived', () => {
      // The client sends no more requests: finish what it sent, then end.
      this.#hasPeerClosed = true;
      this.#maybeEnd();
    });
    connection.on('close', () => {
      // Gone: what waits is dropped, and replies of handlers still running go nowhere (#finish).
      this.#waiting.clear();
      this.#blocked = undefined;
      // Nobody is left to read the replies: every handler still running is told (its signal aborts).
      this.#calls.abortAll();
    });
  }

  /** Handler slots taken plus messages waiting for one. */
  get inFlight(): number {
    return this.#running + this.#waiting.length + (this.#blocked === undefined ? 0 : 1);
  }

  /**
   * The server is closing: sends CLOSE, refuses (-32001, not run) what has not started yet and
   * whatever arrives later, and ends once nothing runs and the client has said CLOSE or FIN.
   */
  beginClose(): void {
    if (this.#isServerClosing) return;
    this.#isServerClosing = true;
    this.connection.sendClose();
    if (this.#blocked !== undefined) this.#refuse(this.#blocked.batch, rpcErrorCodes.SHUTTING_DOWN, shuttingDown);
    this.#blocked = undefined;
    for (let next = this.#waiting.shift(); next !== undefined; next = this.#waiting.shift())
      this.#refuseBytes(next.message, rpcErrorCodes.SHUTTING_DOWN, shuttingDown);
    this.#maybeEnd();
  }

  #originOf(wire: WireContext | undefined): CallOrigin {
    if (wire === undefined) return this.#plainOrigin;
    return { ...this.#plainOrigin, wire, receivedAt: performance.now() };
  }

  #receive(bytes: Buffer, origin: CallOrigin): void {
    if (this.#isServerClosing || this.#hasPeerClosed) {
      // After CLOSE either way: refused unrun, so the client may safely retry elsewhere.
      this.#refuseBytes(bytes, rpcErrorCodes.SHUTTING_DOWN, shuttingDown);
      return;
    }
    if (this.#running >= this.#maxInFlight || this.#waiting.length > 0 || this.#blocked !== undefined) {
      this.#hold(bytes, origin);
      return;
    }
    this.#start(bytes, origin);
  }

  /** No slot is free: answers rpc.ping now, queues the message within the budget, refuses it past. */
  #hold(bytes: Buffer, origin: CallOrigin): void {
    // rpc.ping is a liveness probe (a client checking a silent connection): it answers at once,
    // outside the cap, or slow handlers would make a live server look dead.
    if (bytes.length <= 96 && bytes.includes(pingMethod) && this.#answerPing(bytes)) return;
    if (this.#waiting.chargedBytes + this.#waiting.chargeFor(bytes, origin) > this.#maxWaitingBytes) {
      this.#refuseBytes(bytes, rpcErrorCodes.OVERLOADED, overloaded);
      return;
    }
    // The message is a view into the frame, valid only during this event: the queue keeps a copy.
    this.#waiting.push(bytes, origin);
    if (origin !== this.#plainOrigin) origin.hasWaited = true;
    this.#calls.hasWaiting = true;
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
    this.#dispatcher.dispatch(message).then((reply) => {
      if (reply !== undefined) this.#reply(reply, message);
    });
    return true;
  }

  #start(bytes: Buffer, origin: CallOrigin): void {
    const message = this.#decode(bytes);
    if (message === undecodable || this.#dispatchOrQueue(message, origin)) return;
    this.#blocked = { batch: message as unknown[], origin };
    if (origin !== this.#plainOrigin) origin.hasWaited = true;
    this.#calls.hasWaiting = true;
  }

  /** Runs `message` if its slots are free (true), else leaves it to the caller (false: a batch that must wait). */
  #dispatchOrQueue(message: unknown, origin: CallOrigin): boolean {
    let slots = 1;
    if (Array.isArray(message) && message.length > 1 && message.length <= this.#dispatcher.maxBatch) {
      // One slot per element, held until the batch's reply is ready (the dispatcher refuses whole,
      // running nothing, a batch over maxBatch; one over maxInFlight could never start, so it is too).
      slots = message.length;
      if (slots > this.#maxInFlight) {
        const reason = `Invalid Request: a batch of ${slots} messages exceeds maxInFlight, the limit of ${this.#maxInFlight} calls in flight per connection; nothing was run`;
        this.#reply(errorResponse(null, rpcErrorCodes.INVALID_REQUEST, reason), undefined);
        return true;
      }
      if (this.#running + slots > this.#maxInFlight) return false;
    }
    const reply = this.#dispatcher.dispatchEager(message, origin);
    if (!(reply instanceof Promise)) {
      // Answered synchronously: nothing stays in flight.
      if (reply !== undefined) this.#reply(reply, message);
      return true;
    }
    if (this.#running === 0) this.connection.setBusy(true);
    this.#running += slots;
    reply.then((settled) => this.#finish(settled, slots, message));
    return true;
  }

  #finish(reply: unknown, slots: number, request: unknown): void {
    this.#running -= slots;
    if (this.connection.isClosed) return;
    if (reply !== undefined) this.#reply(reply, request);
    this.#startWaiting();
    if (this.#calls.hasWaiting && this.#blocked === undefined && this.#waiting.length === 0) this.#calls.forgetEarly();
    if (this.#running === 0) this.connection.setBusy(false);
    this.#maybeEnd();
  }

  /** Starts waiting messages, in order, while their slots are free. */
  #startWaiting(): void {
    while (!this.connection.isClosed && this.#running < this.#maxInFlight) {
      if (this.#blocked !== undefined) {
        if (!this.#dispatchOrQueue(this.#blocked.batch, this.#blocked.origin)) return;
        this.#blocked = undefined;
      } else {
        const next = this.#waiting.shift();
        if (next === undefined) return;
        this.#start(next.message, next.tag);
      }
    }
  }

  /** Answers every request in `bytes` with `code` (not run, safe to retry). */
  #refuseBytes(bytes: Buffer, code: number, reason: string): void {
    const message = this.#decode(bytes);
    if (message !== undecodable) this.#refuse(message, code, reason);
  }

  #refuse(message: unknown, code: number, reason: string): void {
    this.#onRefused?.(code);
    const refusal = this.#dispatcher.refuse(message, code, reason);
    if (refusal !== undefined) this.#reply(refusal, undefined);
  }

  /** The decoded message (never undefined), or `undecodable` once the -32700 (or the disconnect) is dealt with. */
  #decode(bytes: Buffer): unknown {
    try {
      return this.#codec.decodeShort?.(bytes, requestFromText) ?? this.#codec.decode(bytes);
    } catch (err) {
      this.#parseError(err);
      return undecodable;
    }
  }

  /**
   * Answers bytes that did not decode with -32700. Our codecs never produce such bytes, so a peer that
   * keeps sending them is broken or hostile: past maxParseErrors it is disconnected, not answered.
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
    this.#reply(this.#dispatcher.parseErrorReply(err), undefined);
  }

  /**
   * Ends the connection once nothing runs or waits and the client has said CLOSE. After the server's
   * own CLOSE it waits for the client, so a request already on the wire is refused with -32001
   * (safe to retry) rather than lost; the server's closeTimeoutMs bounds that wait.
   */
  #maybeEnd(): void {
    if (this.#hasPeerClosed && this.inFlight === 0) this.connection.end();
  }

  /** Sends `reply` (to `request`, when it answers one), replacing what cannot be sent (#repaired). */
  #reply(reply: unknown, request: unknown): void {
    const { connection } = this;
    if (connection.isClosed) return;
    // Cannot be encoded, or too large: #repaired finds which response, and says so.
    let bytes = replyMessage(reply, this.#codec, connection.maxMessageBytes);
    if (bytes === undefined) bytes = this.#repaired(reply, request);
    else this.#dispatcher.logReplies(reply);
    try {
      connection.send(bytes);
    } catch (err) {
      this.#logger.warn({ err, peer: connection.remoteAddress }, 'a reply could not be sent');
    }
  }

  /** `reply` encoded with -32603 for each response that cannot be sent, each logged as the error it is. */
  #repaired(reply: unknown, request: unknown): Buffer {
    const maxBytes = this.connection.maxMessageBytes;
    const { bytes, failures } = encodeReply(reply, this.#codec, maxBytes);
    for (const [response, { failure, replyBytes }] of failures ?? []) {
      const id = readId(response);
      this.#logger.warn(
        {
          method: methodOf(request, id),
          id,
          outcome: failure,
          ...(replyBytes !== undefined && { replyBytes, maxBytes }),
        },
        failure === replyFailures.tooLarge ? 'a reply was over the frame cap' : 'a reply could not be encoded',
      );
    }
    this.#dispatcher.logReplies(reply, (response) => failures?.get(response)?.failure);
    return bytes;
  }
}
