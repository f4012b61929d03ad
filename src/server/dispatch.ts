// The JSON-RPC 2.0 dispatcher: hosts services, validates requests, binds params, runs handlers and
// builds replies (single, notification, batch), plus the rpc.discover / rpc.ping built-ins.
// Works on decoded messages: no sockets, no bytes, no encoding (the caller's codec tags results).
import { AbortError, ServiceError, SerializationError, UsageError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { Logger } from '../log.js';
import { checkInteger } from '../postoffice/index.js';
import { defaultRegistry } from '../serializable/index.js';
import type { Registry } from '../serializable/index.js';
import {
  errorResponse,
  isNotification,
  parseErrorResponse,
  quote,
  readId,
  requestProblem,
  rpcErrorCodes,
  successResponse,
} from '../jsonrpc/index.js';
import type { JsonRpcId } from '../jsonrpc/index.js';
import { buildOpenRpcDocument } from './discover.js';
import type { OpenRpcInfo } from './discover.js';
import { describeService } from './service.js';
import type { ServiceDescription } from './service.js';
import { describeThrown, passThrough } from './thrown.js';
import { InboundCall, cancelled } from './inbound-call.js';
import type { CallOrigin } from './inbound-call.js';
import { runWithCallContext } from '../context.js';
import { Target } from './target.js';
import type { HostedService } from './target.js';

export interface DispatcherOptions {
  /** Revives class-tagged params (default: the default registry). */
  registry?: Registry;
  logger?: Logger;
  /** Send handler stacks to callers in error data (default false: stacks stay in the server log). */
  exposeStack?: boolean;
  /**
   * A RemoteError a handler lets escape (a call it made to another service failed) is answered with
   * its own code, message and data (default true); false answers -32000 as for any other error.
   */
  passRemoteErrors?: boolean;
  /** Answer -32003 when an async handler takes longer (default: no limit). */
  handlerTimeoutMs?: number;
  /** Most messages in one batch (default 100); a larger batch is refused whole. */
  maxBatch?: number;
  /** The info block of the rpc.discover document. */
  openRpcInfo?: OpenRpcInfo;
  /**
   * Routes every valid request here instead of to hosted services (a forwarding bridge): params
   * arrive as wire data, unrevived; the result is replied as returned; a thrown ServiceError keeps
   * its code, anything else becomes -32000. Validation, batches and notifications work as usual.
   */
  forward?: (method: string, params: unknown, isNotification: boolean) => Promise<unknown>;
}

const defaults = { maxBatch: 100 } as const;

/** Where a message handled without an origin comes from: this process, with no deadline. */
const localOrigin: CallOrigin = Object.freeze({ peer: 'local', wire: undefined, receivedAt: 0 });

/** The rejection a handler that ran past handlerTimeoutMs is replaced with. */
const handlerTimedOut: unique symbol = Symbol('handler timed out');

interface WireRequest {
  method: string;
  params?: unknown;
  id?: JsonRpcId;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

export class Dispatcher {
  readonly #registry: Registry;
  readonly #logger: Logger;
  readonly #exposeStack: boolean;
  readonly #passRemoteErrors: boolean;
  readonly #handlerTimeoutMs: number | undefined;
  readonly #maxBatch: number;
  readonly #openRpcInfo: OpenRpcInfo | undefined;
  readonly #forward: DispatcherOptions['forward'];
  readonly #services = new Map<string, HostedService>();
  /** "service.method" and the built-ins -> target. */
  readonly #targets = new Map<string, Target>();
  /** Bare method names, set only while exactly one service is hosted. */
  #single: ReadonlyMap<string, Target> | undefined;
  #servicesList: readonly ServiceDescription[] = [];
  #discoverDocument: object | undefined;
  /**
   * Debug only: successful responses whose "rpc call" line waits until the transport has encoded
   * them (logReplies), so that a result that could not be sent is not logged as ok.
   */
  readonly #unlogged = new WeakMap<object, { method: string; startMs: number; call: InboundCall }>();
  #hasUnlogged = false;

  constructor(options: DispatcherOptions = {}) {
    const timeoutMs = options.handlerTimeoutMs;
    if (
      timeoutMs !== undefined &&
      (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0 || timeoutMs > 2 ** 31 - 1)
    ) {
      throw new UsageError(
        'GAW_ERR_INVALID_OPTION',
        'handlerTimeoutMs must be a number of milliseconds from 0 (no limit) to 2^31 - 1',
      );
    }
    this.#registry = options.registry ?? defaultRegistry;
    this.#logger = options.logger ?? silentLogger;
    this.#exposeStack = options.exposeStack === true;
    this.#passRemoteErrors = options.passRemoteErrors !== false;
    this.#handlerTimeoutMs = timeoutMs === 0 ? undefined : timeoutMs;
    this.#maxBatch = checkInteger('maxBatch', options.maxBatch ?? defaults.maxBatch, 1);
    this.#openRpcInfo = options.openRpcInfo;
    this.#forward = options.forward;
    this.#targets.set(
      'rpc.discover',
      Target.builtin('rpc.discover', function (this: Dispatcher) {
        return this.discover();
      }),
    );
    this.#targets.set(
      'rpc.ping',
      Target.builtin('rpc.ping', () => 'pong'),
    );
  }

  /** Hosts a service. Shared services are constructed here with `constructorArgs`; others once per call. */
  add(cls: new (...args: any[]) => any, ...constructorArgs: unknown[]): this {
    const description = describeService(cls);
    if (this.#services.has(description.name)) {
      throw new UsageError('GAW_ERR_DUPLICATE_SERVICE', `a service named ${quote(description.name)} was already added`);
    }
    const instance = description.isShared ? (Reflect.construct(cls, constructorArgs) as object) : undefined;
    const hosted: HostedService = { description, cls, constructorArgs, instance };
    const own = new Map<string, Target>();
    for (const method of description.methods.values()) own.set(method.name, Target.method(hosted, method));
    this.#services.set(description.name, hosted);
    for (const target of own.values()) this.#targets.set(target.fullName, target);
    this.#single = this.#services.size === 1 ? own : undefined;
    this.#servicesList = Object.freeze([...this.#services.values()].map((s) => s.description));
    this.#discoverDocument = undefined;
    return this;
  }

  get services(): readonly ServiceDescription[] {
    return this.#servicesList;
  }

  /** The most messages a batch may hold; a larger one is refused whole with -32600. */
  get maxBatch(): number {
    return this.#maxBatch;
  }

  /** The OpenRPC document of every hosted method (also the result of `rpc.discover`). */
  discover(): object {
    this.#discoverDocument ??= buildOpenRpcDocument(this.#servicesList, this.#openRpcInfo);
    return this.#discoverDocument;
  }

  /**
   * One decoded message: a request, a notification or a batch array. Resolves to the reply to send
   * (an object, or an array for a batch) or undefined when nothing must be sent. Never rejects.
   */
  handle(message: unknown, origin?: CallOrigin): Promise<unknown> {
    const reply = this.dispatch(message, origin);
    if (!(reply instanceof Promise)) {
      this.logReplies(reply);
      return Promise.resolve(reply);
    }
    if (!this.#isDebug()) return reply;
    return reply.then((settled) => {
      this.logReplies(settled);
      return settled;
    });
  }

  /**
   * Like handle(), without a promise when nothing is asynchronous: a synchronous handler's reply
   * (or undefined) comes back at once, anything else as a promise. Never throws or rejects. The
   * server's hot path: most calls are answered in the same tick, with no promise per request.
   * With debug logging on, the "rpc call" line of a success is left to the caller's logReplies().
   */
  dispatch(message: unknown, origin: CallOrigin = localOrigin): unknown {
    try {
      if (Array.isArray(message)) return this.#handleBatch(message, origin);
      return this.#handleOne(message, origin);
    } catch (err) {
      return this.#internalError(message, err);
    }
  }

  /**
   * Writes the "rpc call" debug line of each successful response in `reply` (one, or a batch) that
   * dispatch() left unlogged: with the outcome `failureOf` names for it (e.g. 'reply too large',
   * when the transport could not send the result), else 'ok'.
   */
  logReplies(reply: unknown, failureOf?: (response: object) => string | undefined): void {
    if (!this.#hasUnlogged || typeof reply !== 'object' || reply === null) return;
    for (const response of Array.isArray(reply) ? reply : [reply]) {
      const call = typeof response === 'object' && response !== null ? this.#unlogged.get(response) : undefined;
      if (call === undefined) continue;
      this.#unlogged.delete(response);
      try {
        this.#logCall(call.method, call.startMs, failureOf?.(response) ?? 'ok', call.call);
      } catch {
        // a logger that throws must not cost the caller its reply
      }
    }
  }

  /** The reply for bytes that did not decode: -32700 with id null and a short, safe message. */
  parseErrorReply(err: unknown): object {
    return parseErrorResponse(err);
  }

  /**
   * The reply refusing `message` without running it (e.g. -32001 shutting down, -32002 overloaded):
   * an error per request id, nothing for notifications (undefined when nothing must be sent).
   */
  refuse(message: unknown, code: number, reason: string): unknown {
    if (!Array.isArray(message))
      return isNotification(message) ? undefined : errorResponse(readId(message), code, reason);
    if (message.length === 0) return errorResponse(null, code, reason);
    const replies: object[] = [];
    for (const element of message)
      if (!isNotification(element)) replies.push(errorResponse(readId(element), code, reason));
    return replies.length === 0 ? undefined : replies;
  }

  #lookup(method: string): Target | undefined {
    const target = this.#targets.get(method);
    if (target !== undefined || this.#single === undefined || method.startsWith('rpc.')) return target;
    return this.#single.get(method);
  }

  #isDebug(): boolean {
    return this.#logger.isLevelEnabled?.('debug') !== false;
  }

  /** A reply, undefined, or a promise of either (for async handlers). Throws only on internal faults. */
  #handleOne(message: unknown, origin: CallOrigin): unknown {
    const problem = requestProblem(message);
    if (problem !== undefined)
      return errorResponse(readId(message), rpcErrorCodes.INVALID_REQUEST, `Invalid Request: ${problem}`);
    const { method, params, id } = message as WireRequest;
    if (this.#forward !== undefined) return this.#forwardOne(method, params, id, origin);
    const target = this.#lookup(method);
    const startMs = this.#isDebug() ? performance.now() : -1;
    if (target === undefined) {
      if (startMs >= 0) this.#logCall(quote(method), startMs, 'method not found');
      return id === undefined
        ? undefined
        : errorResponse(id, rpcErrorCodes.METHOD_NOT_FOUND, `Method not found: ${quote(method)}`);
    }
    let args: unknown[] | string;
    try {
      args = target.bind(params, this.#registry);
    } catch (err) {
      if (!(err instanceof SerializationError)) throw err;
      args = `Invalid params: ${err.message}`;
    }
    if (typeof args === 'string') {
      if (startMs >= 0) this.#logCall(target.fullName, startMs, 'invalid params');
      return id === undefined ? undefined : errorResponse(id, rpcErrorCodes.INVALID_PARAMS, args);
    }
    const call = new InboundCall(target.fullName, origin);
    if (origin.calls?.wasCancelled(id) === true) call.abort(cancelled);
    if (call.abortReason !== undefined) {
      // Cancelled, or its deadline passed, before it started: it is not started at all.
      call.settle();
      const isCancel = call.abortReason instanceof AbortError;
      if (startMs >= 0)
        this.#logCall(
          target.fullName,
          startMs,
          isCancel ? 'not started: cancelled' : 'not started: deadline passed',
          call,
        );
      if (id === undefined) return undefined;
      return isCancel
        ? errorResponse(id, rpcErrorCodes.CANCELLED, `Cancelled: ${target.fullName} was cancelled before it started`)
        : errorResponse(
            id,
            rpcErrorCodes.DEADLINE_EXCEEDED,
            `Deadline exceeded: ${target.fullName} was not started, the caller's deadline had passed`,
          );
    }
    let value: unknown;
    try {
      value = runWithCallContext(call, target.isAsync, () => target.invoke(args, this));
      if (isThenable(value)) {
        call.armDeadline();
        // Only a call still running when the next message is read can be cancelled.
        if (origin.calls !== undefined && (typeof id === 'number' || typeof id === 'string'))
          origin.calls.add(id, call);
        return this.#finishAsync(target, id, value, startMs, call, origin);
      }
    } catch (err) {
      call.settle();
      return this.#failure(target, id, err, startMs, call);
    }
    call.settle();
    return this.#success(target, id, value, startMs, call);
  }

  /** The reply for a handler's result; its log line waits for logReplies() when there is a reply. */
  #success(target: Target, id: JsonRpcId | undefined, value: unknown, startMs: number, call: InboundCall): unknown {
    if (id === undefined) {
      if (startMs >= 0) this.#logCall(target.fullName, startMs, 'ok', call);
      return undefined;
    }
    const response = successResponse(id, value);
    if (startMs >= 0) {
      this.#unlogged.set(response, { method: target.fullName, startMs, call });
      this.#hasUnlogged = true;
    }
    return response;
  }

  async #forwardOne(method: string, params: unknown, id: JsonRpcId | undefined, origin: CallOrigin): Promise<unknown> {
    // The forwarded call runs in the request's context: its client call carries the deadline, the
    // cancellation (the HTTP client hanging up) and the ids on to the server behind the bridge.
    const call = new InboundCall(method, origin);
    call.armDeadline();
    const hasId = typeof id === 'number' || typeof id === 'string';
    if (hasId) origin.calls?.add(id, call);
    try {
      const forward = this.#forward as NonNullable<DispatcherOptions['forward']>;
      const result = await runWithCallContext(call, true, () => forward(method, params, id === undefined));
      return id === undefined ? undefined : successResponse(id, result);
    } catch (err) {
      if (id === undefined) return undefined;
      if (err instanceof ServiceError) return errorResponse(id, err.code, err.message, err.data);
      const passed = passThrough(err, true, call);
      if (passed !== undefined) {
        this.#logger.warn({ err, method: quote(method), requestId: call.requestId }, 'forwarding failed');
        return errorResponse(id, passed.code, passed.message, passed.data);
      }
      this.#logger.warn({ err, method: quote(method) }, 'forwarding failed');
      const { name, message } = describeThrown(err);
      return errorResponse(id, rpcErrorCodes.SERVER_ERROR, message === '' ? name : message, { name, message });
    } finally {
      call.settle();
      if (hasId) origin.calls?.delete(id, call);
    }
  }

  async #finishAsync(
    target: Target,
    id: JsonRpcId | undefined,
    pending: PromiseLike<unknown>,
    startMs: number,
    call: InboundCall,
    origin: CallOrigin,
  ): Promise<unknown> {
    let value: unknown;
    try {
      value = await (this.#handlerTimeoutMs === undefined
        ? pending
        : this.#withTimeout(pending, this.#handlerTimeoutMs));
    } catch (err) {
      try {
        return this.#failure(target, id, err, startMs, call);
      } catch (internal) {
        return this.#internalErrorFor(id, internal);
      }
    } finally {
      call.settle();
      if (origin.calls !== undefined && (typeof id === 'number' || typeof id === 'string'))
        origin.calls.delete(id, call);
    }
    return this.#success(target, id, value, startMs, call);
  }

  #withTimeout(pending: PromiseLike<unknown>, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // Not unref()ed: a pending call is work in progress, and the timer is cleared when it settles.
      const timer = setTimeout(reject, timeoutMs, handlerTimedOut);
      pending.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  /** The reply for a handler that threw or rejected (undefined for notifications). */
  #failure(target: Target, id: JsonRpcId | undefined, err: unknown, startMs: number, call?: InboundCall): unknown {
    if (err === handlerTimedOut) {
      this.#logger.warn(
        { method: target.fullName, timeoutMs: this.#handlerTimeoutMs },
        'handler timed out; its late result will be dropped',
      );
      if (startMs >= 0) this.#logCall(target.fullName, startMs, 'timeout');
      if (id === undefined) return undefined;
      const message = `Handler timeout: ${target.fullName} did not finish within ${this.#handlerTimeoutMs} ms`;
      return errorResponse(id, rpcErrorCodes.HANDLER_TIMEOUT, message);
    }
    if (err instanceof ServiceError) {
      if (startMs >= 0) this.#logCall(target.fullName, startMs, 'service error', call);
      return id === undefined ? undefined : errorResponse(id, err.code, err.message, err.data);
    }
    const passed = passThrough(err, this.#passRemoteErrors, call);
    if (passed !== undefined) {
      this.#logger.warn(
        { err, method: target.fullName, requestId: call?.requestId, rpcCode: passed.code },
        'a call the handler made failed',
      );
      if (startMs >= 0) this.#logCall(target.fullName, startMs, passed.outcome, call);
      return id === undefined ? undefined : errorResponse(id, passed.code, passed.message, passed.data);
    }
    const { name, message, stack } = describeThrown(err);
    try {
      this.#logger.warn({ err, method: target.fullName }, 'handler failed');
    } catch {
      // A thrown value the logger cannot serialize must not change the caller's answer.
      this.#logger.warn({ method: target.fullName, thrown: { name, message } }, 'handler failed');
    }
    if (startMs >= 0) this.#logCall(target.fullName, startMs, 'handler error', call);
    if (id === undefined) return undefined;
    const data = this.#exposeStack && stack !== undefined ? { name, message, stack } : { name, message };
    return errorResponse(id, rpcErrorCodes.SERVER_ERROR, message === '' ? name : message, data);
  }

  #logCall(method: string, startMs: number, outcome: string, call?: InboundCall): void {
    const durationMs = Math.round((performance.now() - startMs) * 1000) / 1000;
    if (call === undefined) this.#logger.debug({ method, durationMs, outcome }, 'rpc call');
    else this.#logger.debug({ requestId: call.requestId, peer: call.peer, method, durationMs, outcome }, 'rpc call');
  }

  async #handleBatch(batch: unknown[], origin: CallOrigin): Promise<unknown> {
    if (batch.length === 0)
      return errorResponse(null, rpcErrorCodes.INVALID_REQUEST, 'Invalid Request: the batch is empty');
    if (batch.length > this.#maxBatch) {
      const reason = `Invalid Request: a batch of ${batch.length} messages exceeds the limit of ${this.#maxBatch}; nothing was run`;
      return errorResponse(null, rpcErrorCodes.INVALID_REQUEST, reason);
    }
    const pending = new Array<unknown>(batch.length);
    for (let i = 0; i < batch.length; i++) {
      try {
        pending[i] = this.#handleOne(batch[i], origin);
      } catch (err) {
        pending[i] = this.#internalError(batch[i], err);
      }
    }
    const settled = await Promise.all(pending);
    const replies: unknown[] = [];
    for (const reply of settled) if (reply !== undefined) replies.push(reply);
    return replies.length === 0 ? undefined : replies;
  }

  /** A fault in gaw itself, not in a handler: logged, answered with -32603 (nothing for notifications). */
  #internalError(message: unknown, err: unknown): unknown {
    return this.#internalErrorFor(isNotification(message) ? undefined : readId(message), err);
  }

  #internalErrorFor(id: JsonRpcId | undefined, err: unknown): unknown {
    try {
      this.#logger.error({ err }, 'dispatch failed');
    } catch {
      // a logger that throws must not turn an answer into a rejection
    }
    return id === undefined ? undefined : errorResponse(id, rpcErrorCodes.INTERNAL_ERROR, 'Internal error');
  }
}
