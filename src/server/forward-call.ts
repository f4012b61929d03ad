// A forwarding bridge's one request (DispatcherOptions.forward): run in the request's own call
// context, so the client call it makes carries the deadline, the cancellation (the HTTP client
// hanging up) and the ids on to the server behind the bridge; its outcome as the reply.
import { ServiceError } from '../errors.js';
import type { Logger } from '../log.js';
import { errorResponse, quote, rpcErrorCodes, successResponse } from '../jsonrpc/index.js';
import type { JsonRpcId } from '../jsonrpc/index.js';
import { runWithCallContext } from '../context.js';
import type { DispatcherOptions } from './dispatch-options.js';
import { InboundCall } from './inbound-call.js';
import type { CallOrigin } from './inbound-call.js';
import { describeThrown, passThrough } from './thrown.js';

export async function forwardOne(
  forward: NonNullable<DispatcherOptions['forward']>,
  logger: Logger,
  method: string,
  params: unknown,
  id: JsonRpcId | undefined,
  origin: CallOrigin,
): Promise<unknown> {
  const call = new InboundCall(method, origin);
  call.armDeadline();
  const hasId = typeof id === 'number' || typeof id === 'string';
  if (hasId) origin.calls?.add(id, call);
  try {
    const result = await runWithCallContext(call, true, () => forward(method, params, id === undefined));
    return id === undefined ? undefined : successResponse(id, result);
  } catch (err) {
    if (id === undefined) return undefined;
    if (err instanceof ServiceError) return errorResponse(id, err.rpcCode, err.message, err.data);
    const passed = passThrough(err, true, call);
    if (passed !== undefined) {
      logger.warn({ err, method: quote(method), requestId: call.requestId }, 'forwarding failed');
      return errorResponse(id, passed.code, passed.message, passed.data);
    }
    logger.warn({ err, method: quote(method) }, 'forwarding failed');
    const { name, message } = describeThrown(err);
    return errorResponse(id, rpcErrorCodes.SERVER_ERROR, message === '' ? name : message, { name, message });
  } finally {
    call.settle();
    if (hasId) origin.calls?.delete(id, call);
  }
}
