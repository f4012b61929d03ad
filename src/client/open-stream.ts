// What GawClient.stream() and the streaming proxy methods do: the checks of a call, then a
// RemoteStream that opens on its first next(). A problem with the call (bad method or params, a
// closed client, a transport without streams, a deadline already passed) is thrown by that first
// next(), as the loop's own error, rather than by the call that made the stream.
import { RemoteError, UsageError } from '../errors.js';
import { callContext } from '../context.js';
import type { CallContext } from '../context.js';
import { rpcErrorCodes } from '../jsonrpc/index.js';
import type { Codec } from '../serializable/index.js';
import { checkMethod } from './call-checks.js';
import { checkCallOptions } from './options.js';
import type { CallOptions } from './options.js';
import { callerDeadlinePassed, checkParams } from './outcomes.js';
import { outgoingContext } from './outgoing-context.js';
import { RemoteStream, defaultStreamWindow } from './remote-stream.js';
import type { Attempt, OutgoingCall, Transport } from './transport.js';

/** What a stream takes from its client. */
export interface StreamSetting {
  codec: Codec;
  transport: Transport;
  /** The client's default timeout. */
  timeoutMs: number;
  /** The call's bounds (deadline, signal) inside `parent`, the handled call, if any. */
  bounds(parent: CallContext | undefined): Attempt;
}

export function openStream(
  setting: StreamSetting,
  isClosed: boolean,
  method: string,
  params: unknown,
  isIdempotent: boolean,
  options: CallOptions,
): RemoteStream {
  const { codec, transport } = setting;
  let problem: unknown;
  let call: OutgoingCall | undefined;
  let attempt: Attempt | undefined;
  try {
    checkCallOptions(options);
    checkMethod(method);
    const checked = checkParams(params);
    if (isClosed) throw new UsageError('GAW_ERR_CLOSED', 'the client is closed');
    if (transport.stream === undefined)
      throw new RemoteError(rpcErrorCodes.STREAM_MISMATCH, `Stream mismatch: ${transport.protocol} has no streams`);
    const parent = options.isRoot === true ? undefined : callContext();
    attempt = setting.bounds(parent);
    if (attempt.timeoutMs === 0) throw callerDeadlinePassed(method);
    call = { method, params: checked, isIdempotent, codec, context: outgoingContext(parent, options) };
  } catch (err) {
    problem = err;
  }
  const window = options.streamWindow ?? defaultStreamWindow;
  return new RemoteStream({
    what: method,
    window,
    timeoutMs: attempt?.timeoutMs ?? setting.timeoutMs,
    signal: attempt?.signal,
    revive: (bytes, data) => (bytes === undefined ? codec.revive(data) : codec.revive(codec.decode(bytes), 'item')),
    open: (receiver) =>
      problem === undefined ? transport.stream!(call!, attempt!, window, receiver) : Promise.reject(problem),
  });
}
