// The dispatcher's path for a request when interceptors are registered: the chain runs around
// the lookup's outcome, the params binding and the handler, so an interceptor sees (and metrics
// count) unknown methods and invalid params too, as refusals it can observe but not undo. Used
// only when the chain is not empty: without interceptors dispatch.ts never comes here.
// Streaming calls (or any other kind) go through `InterceptedDispatch.run` the same way.
import { SerializationError, ServiceError } from '../errors.js';
import { runWithCallContext } from '../context.js';
import { quote, rpcErrorCodes } from '../jsonrpc/index.js';
import type { JsonRpcId } from '../jsonrpc/index.js';
import { runChain } from '../observe/index.js';
import type { ServerCall, ServerInterceptor } from '../observe/index.js';
import type { Registry } from '../serializable/index.js';
import type { CallLog } from './call-log.js';
import type { HandlerOutcomes } from './handler-outcome.js';
import { InboundCall, cancelled } from './inbound-call.js';
import type { CallOrigin } from './inbound-call.js';
import type { Target } from './target.js';

/** Labels for a method no hosted service has (one value, so label sets stay bounded). */
export const otherName = '_OTHER';

/** A refusal made by the end of the chain (no such method, bad params, not started); `outcome` is for the log. */
export class CallRefused extends ServiceError {
  readonly outcome: string;

  constructor(code: number, message: string, outcome: string) {
    super(code, message);
    this.outcome = outcome;
  }
}

class Intercepted implements ServerCall {
  readonly service: string;
  readonly method: string;
  readonly requested: string;
  params: unknown;
  readonly id: JsonRpcId | undefined;
  readonly context: InboundCall;
  readonly target: Target | undefined;
  readonly receivedAtMs: number;

  constructor(
    target: Target | undefined,
    requested: string,
    params: unknown,
    id: JsonRpcId | undefined,
    call: InboundCall,
    receivedAtMs: number,
  ) {
    const names = target?.names;
    this.service = names === undefined ? otherName : names.service === '' ? 'rpc' : names.service;
    this.method = names === undefined ? otherName : names.method;
    this.requested = requested;
    this.params = params;
    this.id = id;
    this.context = call;
    this.target = target;
    this.receivedAtMs = receivedAtMs;
  }

  get isNotification(): boolean {
    return this.id === undefined;
  }

  get peer(): string {
    return this.context.peer;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

export interface InterceptedSettings {
  chain: readonly ServerInterceptor[];
  registry: Registry;
  calls: CallLog;
  outcomes: HandlerOutcomes;
  /** `this` of built-in targets (the dispatcher). */
  owner: object;
}

export class InterceptedDispatch {
  readonly #s: InterceptedSettings;
  readonly #last: (call: Intercepted) => unknown;

  constructor(settings: InterceptedSettings) {
    this.#s = settings;
    this.#last = (call) => this.#invoke(call);
  }

  /** One valid request: a reply, undefined, or a promise of either. Throws only on internal faults. */
  run(
    target: Target | undefined,
    method: string,
    params: unknown,
    id: JsonRpcId | undefined,
    origin: CallOrigin,
  ): unknown {
    const { calls, outcomes } = this.#s;
    const startMs = calls.start();
    const call = new InboundCall(target?.fullName ?? method, origin);
    if (origin.calls?.wasCancelled(id) === true) call.abort(cancelled);
    const named = { fullName: target?.fullName ?? quote(method) };
    let value: unknown;
    try {
      value = runChain(this.#s.chain, new Intercepted(target, method, params, id, call, origin.receivedAt), this.#last);
      if (isThenable(value)) {
        call.armDeadline();
        if (origin.calls !== undefined && (typeof id === 'number' || typeof id === 'string'))
          origin.calls.add(id, call);
        return outcomes.settle(named, id, value, startMs, call, origin);
      }
    } catch (err) {
      call.settle();
      return outcomes.failure(named, id, err, startMs, call);
    }
    call.settle();
    return outcomes.success(named, id, value, startMs, call);
  }

  /** The end of the chain: the refusals a request without interceptors gets, else the handler. */
  #invoke(intercepted: Intercepted): unknown {
    const { target, context: call } = intercepted;
    if (target === undefined)
      throw new CallRefused(
        rpcErrorCodes.METHOD_NOT_FOUND,
        `Method not found: ${quote(intercepted.requested)}`,
        'method not found',
      );
    let args: unknown[] | string;
    try {
      args = target.bind(intercepted.params, this.#s.registry);
    } catch (err) {
      if (!(err instanceof SerializationError)) throw err;
      args = `Invalid params: ${err.message}`;
    }
    if (typeof args === 'string') throw new CallRefused(rpcErrorCodes.INVALID_PARAMS, args, 'invalid params');
    const reason = call.abortReason;
    if (reason !== undefined) {
      if (reason.code === 'GAW_ERR_ABORTED')
        throw new CallRefused(
          rpcErrorCodes.CANCELLED,
          `Cancelled: ${target.fullName} was cancelled before it started`,
          'not started: cancelled',
        );
      throw new CallRefused(
        rpcErrorCodes.DEADLINE_EXCEEDED,
        `Deadline exceeded: ${target.fullName} was not started, the caller's deadline had passed`,
        'not started: deadline passed',
      );
    }
    const owner = this.#s.owner;
    return runWithCallContext(call, target.isAsync, () => target.invoke(args, owner));
  }
}
