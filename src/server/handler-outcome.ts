// What a handler's run becomes: its result, what it threw or rejected with, its overrunning
// handlerTimeoutMs, or its not being started at all (cancelled, or its deadline passed while it
// waited), as the reply for its id (none for a notification), with the log lines that go with each;
// a result that streams goes through the origin's stream sink (served-streams.ts) first.
// Knows nothing of lookup, params or batches (dispatch.ts owns those).
import { AbortError, ServiceError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { errorResponse, rpcErrorCodes, successResponse } from '../jsonrpc/index.js';
import type { JsonRpcId } from '../jsonrpc/index.js';
import type { CallLog } from './call-log.js';
import type { CallOrigin, InboundCall } from './inbound-call.js';
import { describeThrown, passThrough } from './thrown.js';
import { runWithCallContext } from '../context.js';
import { isAsyncIterable, isStreamId } from './served-streams.js';

/** What a reply and its log line name the call by: a Target, or the method asked for. */
export interface Named {
  readonly fullName: string;
}

/** The rejection a handler that ran past handlerTimeoutMs is replaced with. */
const handlerTimedOut: unique symbol = Symbol('handler timed out');

export interface HandlerOutcomeOptions {
  logger: Logger;
  calls: CallLog;
  exposeStack: boolean;
  passRemoteErrors: boolean;
  /** 0 or undefined: no limit. */
  handlerTimeoutMs: number | undefined;
}

export class HandlerOutcomes {
  readonly #logger: Logger;
  readonly #calls: CallLog;
  readonly #exposeStack: boolean;
  readonly #passRemoteErrors: boolean;
  readonly #handlerTimeoutMs: number | undefined;

  constructor(options: HandlerOutcomeOptions) {
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
    this.#logger = options.logger;
    this.#calls = options.calls;
    this.#exposeStack = options.exposeStack;
    this.#passRemoteErrors = options.passRemoteErrors;
    this.#handlerTimeoutMs = timeoutMs === 0 ? undefined : timeoutMs;
  }

  /** The reply for a call given up on before it started (its abortReason is set): it is not started at all. */
  notStarted(target: Named, id: JsonRpcId | undefined, startMs: number, call: InboundCall): unknown {
    call.settle();
    const isCancel = call.abortReason instanceof AbortError;
    this.#calls.log(
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

  /**
   * The reply for a handler's result; its log line waits for logReplies() when there is a reply.
   * With `origin`, a request that opens a stream or a result that streams goes to #stream.
   */
  success(
    target: Named,
    id: JsonRpcId | undefined,
    value: unknown,
    startMs: number,
    call: InboundCall,
    origin?: CallOrigin,
  ): unknown {
    if (origin !== undefined && (origin.wire?.streamWindow !== undefined || isAsyncIterable(value)))
      return this.#stream(target, id, value, startMs, call, origin);
    if (id === undefined) {
      this.#calls.log(target.fullName, startMs, 'ok', call);
      return undefined;
    }
    const response = successResponse(id, value);
    this.#calls.defer(response, target.fullName, startMs, call);
    return response;
  }

  /** The reply once `pending` (what an async handler returned) settles, or -32003 past handlerTimeoutMs. */
  async settle(
    target: Named,
    id: JsonRpcId | undefined,
    pending: PromiseLike<unknown>,
    startMs: number,
    call: InboundCall,
    origin: CallOrigin,
  ): Promise<unknown> {
    let value: unknown;
    try {
      value = await (this.#handlerTimeoutMs === undefined ? pending : withTimeout(pending, this.#handlerTimeoutMs));
    } catch (err) {
      try {
        return this.failure(target, id, err, startMs, call);
      } catch (internal) {
        return this.internalError(id, internal);
      }
    } finally {
      call.settle();
      if (origin.calls !== undefined && (typeof id === 'number' || typeof id === 'string'))
        origin.calls.delete(id, call);
    }
    return this.success(target, id, value, startMs, call, origin);
  }

  /**
   * A stream: its items through the origin's sink, then the reply that ends it (the producer's
   * return value, or the error that stopped it); or -32020 when the call and the result disagree
   * (a stream asked of a method that does not stream, or a streaming result asked for without the
   * stream extension), -32600 for a stream whose id cannot be a stream id.
   */
  #stream(
    target: Named,
    id: JsonRpcId | undefined,
    value: unknown,
    startMs: number,
    call: InboundCall,
    origin: CallOrigin,
  ): unknown {
    const window = origin.wire?.streamWindow;
    const sink = origin.streams;
    let problem: [number, string] | undefined;
    if (!isAsyncIterable(value))
      problem = [
        rpcErrorCodes.STREAM_MISMATCH,
        `Stream mismatch: ${target.fullName} does not stream; await its result`,
      ];
    else if (sink === undefined || (window === undefined && sink.isOptIn !== true))
      problem = [
        rpcErrorCodes.STREAM_MISMATCH,
        `Stream mismatch: ${target.fullName} streams its result; iterate it (for await) over a connection with the stream extension, or ask the HTTP bridge for application/x-ndjson`,
      ];
    else if (sink.isOptIn === true ? id === undefined || id === null : !isStreamId(id))
      problem = [rpcErrorCodes.INVALID_REQUEST, 'Invalid Request: a stream needs a request id from 0 to 2^32 - 1'];
    if (problem !== undefined || sink === undefined) {
      // Never started: an async generator's body has not run, so returning it runs nothing.
      if (isAsyncIterable(value)) closeQuietly(value);
      this.#calls.log(target.fullName, startMs, 'stream mismatch', call);
      return id === undefined ? undefined : errorResponse(id, problem![0], problem![1]);
    }
    const streamId = id as number | string;
    call.armDeadline();
    origin.calls?.add(streamId, call);
    const source = value as AsyncIterable<unknown>;
    return runWithCallContext(call, true, () => sink.run(streamId, window ?? 0, source, call)).then((end) => {
      call.settle();
      origin.calls?.delete(streamId, call);
      if ('error' in end) return this.failure(target, id, end.error, startMs, call);
      return this.success(target, id, end.value === undefined ? null : end.value, startMs, call);
    });
  }

  /** The reply for a handler that threw or rejected (undefined for notifications). */
  failure(target: Named, id: JsonRpcId | undefined, err: unknown, startMs: number, call?: InboundCall): unknown {
    if (err === handlerTimedOut) {
      this.#logger.warn(
        { method: target.fullName, timeoutMs: this.#handlerTimeoutMs },
        'handler timed out; its late result will be dropped',
      );
      this.#calls.log(target.fullName, startMs, 'timeout');
      if (id === undefined) return undefined;
      const message = `Handler timeout: ${target.fullName} did not finish within ${this.#handlerTimeoutMs} ms`;
      return errorResponse(id, rpcErrorCodes.HANDLER_TIMEOUT, message);
    }
    if (err instanceof ServiceError) {
      const outcome = (err as ServiceError & { outcome?: unknown }).outcome;
      this.#calls.log(target.fullName, startMs, typeof outcome === 'string' ? outcome : 'service error', call);
      return id === undefined ? undefined : errorResponse(id, err.rpcCode, err.message, err.data);
    }
    const passed = passThrough(err, this.#passRemoteErrors, call);
    if (passed !== undefined) {
      this.#logger.warn(
        { err, method: target.fullName, requestId: call?.requestId, rpcCode: passed.code },
        'a call the handler made failed',
      );
      this.#calls.log(target.fullName, startMs, passed.outcome, call);
      return id === undefined ? undefined : errorResponse(id, passed.code, passed.message, passed.data);
    }
    const { name, message, stack } = describeThrown(err);
    try {
      this.#logger.warn({ err, method: target.fullName }, 'handler failed');
    } catch {
      // A thrown value the logger cannot serialize must not change the caller's answer.
      this.#logger.warn({ method: target.fullName, thrown: { name, message } }, 'handler failed');
    }
    this.#calls.log(target.fullName, startMs, 'handler error', call);
    if (id === undefined) return undefined;
    const data = this.#exposeStack && stack !== undefined ? { name, message, stack } : { name, message };
    return errorResponse(id, rpcErrorCodes.SERVER_ERROR, message === '' ? name : message, data);
  }

  /** A fault in gaw itself, not in a handler: logged, answered with -32603 (nothing for notifications). */
  internalError(id: JsonRpcId | undefined, err: unknown): unknown {
    try {
      this.#logger.error({ err }, 'dispatch failed');
    } catch {
      // a logger that throws must not turn an answer into a rejection
    }
    return id === undefined ? undefined : errorResponse(id, rpcErrorCodes.INTERNAL_ERROR, 'Internal error');
  }
}

function withTimeout(pending: PromiseLike<unknown>, timeoutMs: number): Promise<unknown> {
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

function closeQuietly(source: AsyncIterable<unknown>): void {
  try {
    const iterator = source[Symbol.asyncIterator]();
    iterator.return?.()?.catch(() => {});
  } catch {
    // an iterable that cannot even be opened has nothing to close
  }
}
