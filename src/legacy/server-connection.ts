// One accepted Python Gaw 0.7 connection: strict framing, open (authenticate), parse, dispatch, reply,
// one request at a time (the socket is paused while a call runs). A framing or authentication failure
// destroys the socket without writing anything; everything after authentication is answered in the
// legacy reply shape. Accepting sockets, caps and lifecycle are listener.ts's.
import type { Socket } from 'node:net';
import { GawError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Registry } from '../serializable/index.js';
import { envelopeBytes, parseJsonBytes, sealFrame } from './codec.js';
import { fromPythonData, toPythonData } from './dialect.js';
import { LegacyFrameDecoder } from './frame.js';
import type { FrameBounds } from './frame.js';
import { fromJsonRpc, LegacyRequestError, readRequest, replyEnvelope, toJsonRpc } from './message.js';
import type { LegacyReply, LegacyRequest } from './message.js';
import type { ResolvedListenerOptions } from './options.js';
import { legacyModes, openBody } from './seal.js';
import type { LegacySealing } from './seal.js';

/** Frames received while a call runs are queued; a peer that pipelines more than this is dropped. */
const MAX_QUEUED_FRAMES = 32;

export interface ServeContext {
  readonly sealing: LegacySealing;
  readonly bounds: FrameBounds;
  readonly options: ResolvedListenerOptions;
  readonly registry: Registry;
  readonly logger: Logger;
}

export class LegacyServerConnection {
  readonly socket: Socket;
  /** Called once, when the first authentic request has arrived. */
  onAuthenticated: (() => void) | undefined;
  readonly #ctx: ServeContext;
  readonly #decoder: LegacyFrameDecoder;
  readonly #peer: string;
  #queue: Buffer[] = [];
  #bytesReceived = 0;
  #isBusy = false;
  #isAuthenticated = false;
  #isPeerEnded = false;
  #isClosing = false;
  #isDestroyed = false;
  #frameTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, ctx: ServeContext) {
    this.socket = socket;
    this.#ctx = ctx;
    this.#peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.#decoder = new LegacyFrameDecoder(ctx.bounds);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err) => this.#ctx.logger.debug({ peer: this.#peer, err: err.message }, 'legacy socket error'));
    socket.once('close', () => {
      this.#isDestroyed = true;
      this.#clearTimers();
    });
    this.#armIdle();
  }

  get isAuthenticated(): boolean {
    return this.#isAuthenticated;
  }

  /** Stops taking requests: an idle connection closes now, a busy one after its reply is written. */
  closeGracefully(): void {
    this.#isClosing = true;
    this.#queue = [];
    if (!this.#isBusy) this.destroy();
  }

  destroy(): void {
    if (this.#isDestroyed) return;
    this.#isDestroyed = true;
    this.#clearTimers();
    this.socket.destroy();
  }

  /** Fatal: one log line without key material, then close without writing anything. */
  #fail(reason: string): void {
    if (this.#isDestroyed) return;
    this.#ctx.logger.warn({ peer: this.#peer, reason }, 'legacy connection closed');
    this.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#isDestroyed) return;
    const isFirstChunk = this.#bytesReceived === 0;
    this.#bytesReceived += chunk.length;
    try {
      this.#decoder.push(chunk, (body) => this.#queue.push(body));
    } catch (err) {
      const hint = isFirstChunk && chunk[0] === 0x47 ? ' (a GAWP/1 client on the legacy port?)' : '';
      return this.#fail(`${err instanceof Error ? err.message : 'framing error'}${hint}`);
    }
    if (this.#queue.length > MAX_QUEUED_FRAMES) return this.#fail('too many requests sent without waiting for replies');
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#updateFrameTimer();
    this.#pump();
  }

  #onEnd(): void {
    this.#isPeerEnded = true;
    if (this.#decoder.hasPartialFrame) return this.#fail('the peer closed in the middle of a frame');
    if (!this.#isBusy && this.#queue.length === 0) this.#finish();
  }

  /** Graceful end: flush what was written, send FIN, then release the socket. */
  #finish(): void {
    if (this.#isDestroyed) return;
    this.#clearTimers();
    this.socket.end(() => this.destroy());
  }

  #updateFrameTimer(): void {
    if (this.#decoder.hasPartialFrame && !this.#isBusy) {
      this.#frameTimer ??= setTimeout(
        () => this.#fail('a started frame did not complete in time'),
        this.#ctx.options.frameTimeoutMs,
      ).unref();
    } else {
      clearTimeout(this.#frameTimer);
      this.#frameTimer = undefined;
    }
  }

  #armIdle(): void {
    const idleMs = this.#ctx.options.idleTimeoutMs;
    if (idleMs === 0 || this.#isDestroyed || this.#idleTimer !== undefined) return;
    this.#idleTimer = setTimeout(() => {
      this.#ctx.logger.debug({ peer: this.#peer }, 'legacy connection idle, closing');
      this.destroy();
    }, idleMs).unref();
  }

  #clearTimers(): void {
    clearTimeout(this.#frameTimer);
    clearTimeout(this.#idleTimer);
    this.#frameTimer = undefined;
    this.#idleTimer = undefined;
  }

  /** Runs the next queued request, if none is running. */
  #pump(): void {
    if (this.#isBusy || this.#isDestroyed) return;
    const body = this.#queue.shift();
    if (body === undefined) {
      if (this.#isPeerEnded || this.#isClosing) this.#finish();
      else if (!this.#decoder.hasPartialFrame) this.#armIdle();
      return;
    }
    this.#isBusy = true;
    this.socket.pause();
    this.#updateFrameTimer();
    this.#answer(body).then(
      (frame) => {
        if (frame === undefined || this.#isDestroyed) return;
        const done = (): void => {
          this.#isBusy = false;
          if (this.#isClosing) return this.#finish();
          this.socket.resume();
          this.#updateFrameTimer();
          this.#pump();
        };
        if (this.socket.write(frame)) done();
        else this.socket.once('drain', done);
      },
      (err: unknown) => this.#fail(`internal error: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /** The reply frame for one frame body, or undefined when the connection was failed instead. */
  async #answer(body: Buffer): Promise<Buffer | undefined> {
    let json: Buffer;
    try {
      json = openBody(this.#ctx.sealing, body);
    } catch (err) {
      this.#fail(err instanceof Error ? err.message : 'authentication failed');
      return undefined;
    }
    if (this.#ctx.sealing.mode !== legacyModes.plain) this.#markAuthenticated();
    let request: LegacyRequest | undefined;
    let reply: LegacyReply;
    try {
      request = readRequest(parseJsonBytes(json));
      this.#markAuthenticated();
      request.args = fromPythonData(request.args) as unknown[];
      request.kwargs = fromPythonData(request.kwargs) as Record<string, unknown>;
      const rpcRequest = toJsonRpc(request);
      let response: unknown;
      try {
        response = await this.#ctx.options.dispatch(rpcRequest);
      } catch (err) {
        this.#ctx.logger.error({ peer: this.#peer, err }, 'legacy dispatch failed');
        response = undefined;
      }
      reply = fromJsonRpc(response, request, (value) => toPythonData(this.#ctx.registry.encode(value)));
    } catch (err) {
      reply = problemReply(err);
    }
    if (this.#isDestroyed) return undefined;
    return this.#replyFrame(reply);
  }

  #markAuthenticated(): void {
    if (this.#isAuthenticated) return;
    this.#isAuthenticated = true;
    this.onAuthenticated?.();
  }

  /** Encodes a reply; a result that cannot be written or is too large becomes an exception reply. */
  #replyFrame(reply: LegacyReply): Buffer {
    let json: Buffer;
    try {
      json = envelopeBytes(replyEnvelope(reply));
    } catch (err) {
      if (reply.kind !== 'result') throw err;
      const detail = err instanceof Error ? err.message : 'the result cannot be written';
      reply = {
        kind: 'exception',
        respTo: reply.respTo,
        name: 'SerializeError',
        message: `the result could not be encoded: ${detail}`,
        trace: '',
      };
      json = envelopeBytes(replyEnvelope(reply));
    }
    const maxBytes = this.#ctx.options.maxPayloadBytes;
    if (json.length > maxBytes && reply.kind !== 'transport-error') {
      const message = `the reply is ${json.length} bytes, above the frame cap of ${maxBytes}`;
      json = envelopeBytes(
        replyEnvelope({ kind: 'exception', respTo: reply.respTo, name: 'ValueError', message, trace: '' }),
      );
    }
    return sealFrame(this.#ctx.sealing, json);
  }
}

/** The reply for a request that could not be read or expressed as a JSON-RPC call. */
function problemReply(err: unknown): LegacyReply {
  if (err instanceof LegacyRequestError) {
    const { pythonName: name, message } = err;
    if (err.id !== undefined) return { kind: 'exception', respTo: err.id, name, message, trace: '' };
    return { kind: 'transport-error', name, message, trace: '' };
  }
  const detail = err instanceof GawError ? `: ${err.message}` : '';
  return {
    kind: 'transport-error',
    name: 'ValueError',
    message: `Data received was not in JSON or not decryptable format${detail}`,
    trace: '',
  };
}
