// The JSON-RPC 2.0 dispatcher: hosts services, validates requests, binds params, runs handlers and
// builds replies (single, notification, batch), plus the rpc.discover / rpc.ping built-ins. What a
// handler's run becomes is handler-outcome.ts's; the per-call log line is call-log.ts's; a
// forwarding bridge's request is forward-call.ts's.
// Works on decoded messages: no sockets, no bytes, no encoding (the caller's codec tags results).
import { SerializationError, UsageError } from '../errors.js';
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
} from '../jsonrpc/index.js';
import type { JsonRpcId } from '../jsonrpc/index.js';
import { buildOpenRpcDocument } from './discover.js';
import type { OpenRpcInfo } from './discover.js';
import type { DispatcherOptions } from './dispatch-options.js';
import { CallLog } from './call-log.js';
import { HandlerOutcomes } from './handler-outcome.js';
import { describeService } from './service.js';
import type { ServiceDescription } from './service.js';
import { forwardOne } from './forward-call.js';
import { InboundCall, cancelled } from './inbound-call.js';
import type { CallOrigin } from './inbound-call.js';
import { runWithCallContext } from '../context.js';
import { Target, isThenable } from './target.js';
import { InterceptedDispatch } from './intercepted.js';
import { checkInterceptors } from '../observe/index.js';
import type { ServerInterceptor } from '../observe/index.js';
import type { HostedService } from './target.js';

export type { DispatcherOptions } from './dispatch-options.js';

const defaults = { maxBatch: 100 } as const;

/** Where a message handled without an origin comes from: this process, with no deadline. */
const localOrigin: CallOrigin = Object.freeze({ peer: 'local', wire: undefined, receivedAt: 0 });

interface WireRequest {
  method: string;
  params?: unknown;
  id?: JsonRpcId;
}

export class Dispatcher {
  readonly #registry: Registry;
  readonly #logger: Logger;
  readonly #calls: CallLog;
  readonly #outcomes: HandlerOutcomes;
  readonly #maxBatch: number;
  readonly #openRpcInfo: OpenRpcInfo | undefined;
  readonly #forward: DispatcherOptions['forward'];
  /** Set only when interceptors are registered: without them no call pays for the hook. */
  readonly #intercepted: InterceptedDispatch | undefined;
  readonly #services = new Map<string, HostedService>();
  /** "service.method" and the built-ins -> target. */
  readonly #targets = new Map<string, Target>();
  /** Bare method names, set only while exactly one service is hosted. */
  #single: ReadonlyMap<string, Target> | undefined;
  #servicesList: readonly ServiceDescription[] = [];
  #discoverDocument: object | undefined;

  constructor(options: DispatcherOptions = {}) {
    this.#registry = options.registry ?? defaultRegistry;
    this.#logger = options.logger ?? silentLogger;
    this.#calls = new CallLog(this.#logger);
    this.#outcomes = new HandlerOutcomes({
      logger: this.#logger,
      calls: this.#calls,
      exposeStack: options.exposeStack === true,
      passRemoteErrors: options.passRemoteErrors !== false,
      handlerTimeoutMs: options.handlerTimeoutMs,
    });
    this.#maxBatch = checkInteger('maxBatch', options.maxBatch ?? defaults.maxBatch, 1);
    this.#openRpcInfo = options.openRpcInfo;
    this.#forward = options.forward;
    const chain = checkInterceptors<ServerInterceptor>(options.interceptors, 'interceptors');
    this.#intercepted =
      chain &&
      new InterceptedDispatch({
        chain,
        registry: this.#registry,
        calls: this.#calls,
        outcomes: this.#outcomes,
        owner: this,
      });
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

  /** A hosted service's instance for work other than a call (events): the shared one, or a new one. */
  instanceOf(name: string): object {
    const { instance, cls, constructorArgs } = this.#services.get(name)!;
    return instance ?? (Reflect.construct(cls, constructorArgs) as object);
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
  dispatch(message: unknown, origin?: CallOrigin): Promise<unknown> {
    const reply = this.dispatchEager(message, origin);
    if (!(reply instanceof Promise)) {
      this.#calls.logReplies(reply);
      return Promise.resolve(reply);
    }
    if (!this.#calls.isOn) return reply;
    return reply.then((settled) => {
      this.#calls.logReplies(settled);
      return settled;
    });
  }

  /**
   * Like dispatch(), without a promise when nothing is asynchronous: a synchronous handler's reply
   * (or undefined) comes back at once, anything else as a promise. Never throws or rejects. The
   * server's hot path: most calls are answered in the same tick, with no promise per request.
   * With debug logging on, the "rpc call" line of a success is left to the caller's logReplies().
   */
  dispatchEager(message: unknown, origin: CallOrigin = localOrigin): unknown {
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
    this.#calls.logReplies(reply, failureOf);
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

  /** A reply, undefined, or a promise of either (for async handlers). Throws only on internal faults. */
  #handleOne(message: unknown, origin: CallOrigin): unknown {
    const problem = requestProblem(message);
    if (problem !== undefined)
      return errorResponse(readId(message), rpcErrorCodes.INVALID_REQUEST, `Invalid Request: ${problem}`);
    const { method, params, id } = message as WireRequest;
    if (this.#forward !== undefined) return forwardOne(this.#forward, this.#logger, method, params, id, origin);
    const target = this.#lookup(method);
    if (this.#intercepted !== undefined) return this.#intercepted.run(target, method, params, id, origin);
    const startMs = this.#calls.start();
    if (target === undefined) {
      this.#calls.log(quote(method), startMs, 'method not found');
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
      this.#calls.log(target.fullName, startMs, 'invalid params');
      return id === undefined ? undefined : errorResponse(id, rpcErrorCodes.INVALID_PARAMS, args);
    }
    const call = new InboundCall(target.fullName, origin);
    if (origin.calls?.wasCancelled(id) === true) call.abort(cancelled);
    // Cancelled, or its deadline passed, before it started: it is not started at all.
    if (call.abortReason !== undefined) return this.#outcomes.notStarted(target, id, startMs, call);
    let value: unknown;
    try {
      value = runWithCallContext(call, target.isAsync, () => target.invoke(args, this));
      if (isThenable(value)) {
        call.armDeadline();
        // Only a call still running when the next message is read can be cancelled.
        if (origin.calls !== undefined && (typeof id === 'number' || typeof id === 'string'))
          origin.calls.add(id, call);
        return this.#outcomes.settle(target, id, value, startMs, call, origin);
      }
    } catch (err) {
      call.settle();
      return this.#outcomes.failure(target, id, err, startMs, call);
    }
    call.settle();
    return this.#outcomes.success(target, id, value, startMs, call, origin);
  }

  async #handleBatch(batch: unknown[], origin: CallOrigin): Promise<unknown> {
    const problem = batch.length === 0 ? 'the batch is empty' : 'a stream opens with one request, not a batch';
    if (batch.length === 0 || origin.wire?.streamWindow !== undefined)
      return errorResponse(null, rpcErrorCodes.INVALID_REQUEST, `Invalid Request: ${problem}`);
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
    return this.#outcomes.internalError(isNotification(message) ? undefined : readId(message), err);
  }
}
