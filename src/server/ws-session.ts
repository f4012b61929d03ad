// One WebSocket on /api: authentication (a token in the handshake, or rpc.auth first), JSON-RPC
// messages run through the dispatch function with many in flight, the per-socket caps (in flight,
// queued bytes, unsent output), the built-ins (rpc.auth, rpc.cancel, rpc.subscribe,
// rpc.unsubscribe), pushes, and the close on drain. The handshake checks and the timers that
// watch many sockets are ws-endpoint.ts's; names and fan-out are ws-hub.ts's.
import { errorResponse, isPlainObject, parseErrorResponse, repairReply, rpcErrorCodes } from '../jsonrpc/index.js';
import type { CallOrigin } from './inbound-call.js';
import { InboundCalls } from './inbound-call.js';
import type { HttpApiSettings } from './http-options.js';
import { isBuiltin, runAuth, runBuiltin } from './ws-builtins.js';
import type { WebSocketSettings } from './ws-options.js';
import { wsStreamOrigin } from './ws-streams.js';
import { closeCodes, readWireContext, refuseMessage } from './ws-rules.js';

/** What a session needs of a `ws` WebSocket (kept structural: gaw's types do not depend on ws's). */
export interface WsSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Buffer, options: { binary: boolean }, cb?: (err?: Error) => void): void;
  ping(data?: undefined, mask?: undefined, cb?: (err?: Error) => void): void;
  pause(): void;
  resume(): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: 'close' | 'pong', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

/** What a session tells the endpoint that owns it. */
export interface SessionOwner {
  settings: HttpApiSettings;
  ws: WebSocketSettings;
  authenticated(session: WsSession): void;
  subscribe(session: WsSession, topics: readonly string[]): void;
  unsubscribe(session: WsSession, topics: readonly string[]): void;
  /** Output went over maxBufferedBytes (true) or back under it (false). */
  outputBacklog(session: WsSession, isOver: boolean): void;
  closed(session: WsSession): void;
}

const OPEN = 1;
/** How long a close frame the server sent waits for the peer's before the TCP connection is dropped. */
export const closeHandshakeMs = 2_000;
const text = Object.freeze({ binary: false });

export class WsSession {
  readonly peer: string;
  readonly socket: WsSocket;
  /** The names this socket is subscribed to. */
  readonly topics = new Set<string>();
  /** Set by the endpoint's sweep; any frame from the peer clears it. */
  isSilent = false;
  readonly owner: SessionOwner;
  /** The requests running on this socket, for rpc.cancel and the abort on close. */
  readonly calls = new InboundCalls();
  readonly #queue: Buffer[] = [];
  #queuedBytes = 0;
  #isAuthenticated: boolean;
  #inFlight = 0;
  #isFull = false;
  #isBacklogged = false;
  #isPaused = false;
  #isDraining = false;
  #isClosed = false;
  #closeTimer: NodeJS.Timeout | undefined;

  constructor(socket: WsSocket, peer: string, isAuthenticated: boolean, owner: SessionOwner) {
    this.socket = socket;
    this.peer = peer;
    this.owner = owner;
    this.#isAuthenticated = isAuthenticated;
    socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    socket.on('pong', () => {
      this.isSilent = false;
    });
    socket.on('error', () => {}); // ws closes the socket after an error; 'close' follows
    socket.on('close', () => this.#onClose());
    if (isAuthenticated) owner.authenticated(this);
  }

  get isAuthenticated(): boolean {
    return this.#isAuthenticated;
  }

  /** rpc.auth succeeded (once; later calls do nothing). */
  markAuthenticated(): void {
    if (this.#isAuthenticated) return;
    this.#isAuthenticated = true;
    this.owner.authenticated(this);
  }

  /** True while the server reads this socket (not paused for load or output). */
  get isReading(): boolean {
    return !this.#isPaused;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Sends one encoded frame; false when the socket is not open or its output is over the bound. */
  push(frame: Buffer): boolean {
    if (this.socket.readyState !== OPEN || this.#isBacklogged) return false;
    this.#write(frame);
    return true;
  }

  /** Server drain: new requests get -32001; closes with 1001 once the calls in flight are answered. */
  beginClose(): void {
    if (this.#isDraining || this.#isClosed) return;
    this.#isDraining = true;
    for (const data of this.#queue.splice(0))
      this.#refuseBytes(data, rpcErrorCodes.SHUTTING_DOWN, 'Server shutting down');
    this.#queuedBytes = 0;
    this.#isFull = false;
    this.#updateReading();
    if (this.#inFlight === 0 || !this.#isAuthenticated) this.close(closeCodes.GOING_AWAY, 'server shutting down');
  }

  close(code: number, reason: string): void {
    if (this.#isClosed) return;
    this.socket.close(code, reason);
    // A peer that never answers the close frame is not waited for long.
    this.#closeTimer ??= setTimeout(() => this.socket.terminate(), closeHandshakeMs).unref();
  }

  /** The output drained below maxBufferedBytes again (the endpoint watches it). */
  drained(): void {
    this.#isBacklogged = false;
    this.#updateReading();
  }

  #onClose(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    clearTimeout(this.#closeTimer);
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    this.calls.abortAll();
    this.owner.closed(this);
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    this.isSilent = false;
    if (this.#isClosed) return;
    if (isBinary) {
      this.close(closeCodes.UNSUPPORTED_DATA, 'only text frames of JSON-RPC are taken');
      return;
    }
    if (!this.#isAuthenticated) {
      this.#authenticate(data);
      return;
    }
    if (this.#isDraining) {
      this.#refuseBytes(data, rpcErrorCodes.SHUTTING_DOWN, 'Server shutting down');
      return;
    }
    if (this.#inFlight < this.owner.ws.maxInFlight && this.#queue.length === 0) {
      this.#run(data);
      return;
    }
    // Messages a paused socket had already read: they wait, up to maxQueuedBytes.
    if (this.#queuedBytes + data.length > this.owner.ws.maxQueuedBytes) {
      this.#refuseBytes(data, rpcErrorCodes.OVERLOADED, 'Server overloaded: too many calls in flight on this socket');
      return;
    }
    this.#queue.push(data);
    this.#queuedBytes += data.length;
  }

  /** The first message when a token is required: rpc.auth with the right token, or 4401. */
  #authenticate(data: Buffer): void {
    const message = this.#decode(data);
    if (!isPlainObject(message) || message.method !== 'rpc.auth') {
      this.close(closeCodes.UNAUTHORIZED, 'unauthorized: send rpc.auth first');
      return;
    }
    runAuth(this, message);
  }

  #decode(data: Buffer): unknown {
    try {
      return this.owner.settings.codec.decode(data);
    } catch {
      return undefined;
    }
  }

  #run(data: Buffer): void {
    const settings = this.owner.settings;
    let message: unknown;
    try {
      message = settings.codec.decode(data);
    } catch (err) {
      this.send(parseErrorResponse(err));
      return;
    }
    if (isPlainObject(message) && typeof message.method === 'string' && isBuiltin(message.method)) {
      runBuiltin(this, message);
      return;
    }
    const wire = readWireContext(message);
    if (typeof wire === 'string') {
      this.send(refuseMessage(message, rpcErrorCodes.INVALID_REQUEST, `Invalid Request: ${wire}`));
      return;
    }
    const origin: CallOrigin = { peer: this.peer, wire, receivedAt: performance.now(), calls: this.calls };
    let reply: unknown;
    try {
      reply = settings.dispatch(message, wsStreamOrigin(this, message, origin));
    } catch (err) {
      settings.logger.error({ err }, 'websocket: dispatch failed');
      this.send(refuseMessage(message, rpcErrorCodes.INTERNAL_ERROR, 'Internal error'));
      return;
    }
    if (typeof (reply as PromiseLike<unknown> | undefined)?.then !== 'function') {
      this.send(reply);
      return;
    }
    // Only a call still running holds slots: a batch one per element, at most all of them.
    const slots = Array.isArray(message) ? Math.max(1, Math.min(message.length, this.owner.ws.maxInFlight)) : 1;
    this.#inFlight += slots;
    const done = (value: unknown): void => {
      this.#inFlight -= slots;
      this.send(value);
      this.#next();
    };
    (reply as PromiseLike<unknown>).then(done, (err: unknown) => {
      settings.logger.error({ err }, 'websocket: dispatch failed');
      done(refuseMessage(message, rpcErrorCodes.INTERNAL_ERROR, 'Internal error'));
    });
    if (this.#inFlight >= this.owner.ws.maxInFlight && !this.#isFull) {
      this.#isFull = true;
      this.#updateReading();
    }
  }

  /** A slot came free: run what waits, read again when nothing does, close when draining. */
  #next(): void {
    if (this.#isClosed) return;
    while (this.#queue.length > 0 && this.#inFlight < this.owner.ws.maxInFlight) {
      const data = this.#queue.shift()!;
      this.#queuedBytes -= data.length;
      this.#run(data);
    }
    if (this.#isFull && this.#queue.length === 0 && this.#inFlight < this.owner.ws.maxInFlight) {
      this.#isFull = false;
      this.#updateReading();
    }
    if (this.#isDraining && this.#inFlight === 0) this.close(closeCodes.GOING_AWAY, 'server shutting down');
  }

  #refuseBytes(data: Buffer, code: number, reason: string): void {
    const message = this.#decode(data);
    this.send(message === undefined ? errorResponse(null, code, reason) : refuseMessage(message, code, reason));
  }

  /** Encodes and sends one reply (nothing for undefined, or when the socket is not open). */
  send(reply: unknown): void {
    if (reply === undefined || this.socket.readyState !== OPEN) return;
    this.#write(this.#encode(reply));
  }

  #write(frame: Buffer): void {
    this.socket.send(frame, text);
    if (!this.#isBacklogged && this.socket.bufferedAmount > this.owner.ws.maxBufferedBytes) {
      this.#isBacklogged = true;
      this.#updateReading();
      this.owner.outputBacklog(this, true);
    }
  }

  #encode(reply: unknown): Buffer {
    const s = this.owner.settings;
    try {
      return s.isRaw ? Buffer.from(JSON.stringify(reply), 'utf8') : s.codec.encode(reply);
    } catch (err) {
      s.logger.warn({ err }, 'websocket: a reply could not be encoded');
      return s.codec.encode(repairReply(reply, (value) => s.codec.encode(value)));
    }
  }

  /** Reads the socket unless calls fill it, its output is backed up, or nothing more is wanted. */
  #updateReading(): void {
    const shouldPause = (this.#isFull || this.#isBacklogged) && !this.#isDraining;
    if (shouldPause === this.#isPaused || this.#isClosed) return;
    this.#isPaused = shouldPause;
    if (shouldPause) this.socket.pause();
    else {
      this.isSilent = false;
      this.socket.resume();
    }
  }
}
