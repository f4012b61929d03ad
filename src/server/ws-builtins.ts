// The methods a WebSocket answers itself, before the dispatcher: rpc.auth (the bearer token),
// rpc.cancel (abort a running request's signal), rpc.subscribe and rpc.unsubscribe (the names
// whose pushes the socket receives). Only as single messages, not inside a batch.
import { errorResponse, rpcErrorCodes, successResponse } from '../jsonrpc/index.js';
import { InboundCalls } from './inbound-call.js';
import type { WsSession } from './ws-session.js';
import { closeCodes, isTokenRight, readAuthToken, readCancelId, readTopics } from './ws-rules.js';

const builtins: ReadonlySet<string> = new Set(['rpc.auth', 'rpc.cancel', 'rpc.subscribe', 'rpc.unsubscribe']);

export function isBuiltin(method: string): boolean {
  return builtins.has(method);
}

type Id = number | string | null | undefined;

/** rpc.auth: the right token (when one is required) authenticates the socket; a wrong one closes it with 4401. */
export function runAuth(session: WsSession, message: Record<string, unknown>): void {
  const { settings } = session.owner;
  const id = message.id as Id;
  if (settings.tokenHash !== undefined && !isTokenRight(readAuthToken(message.params), settings.tokenHash)) {
    settings.logger.warn({ peer: session.peer }, 'websocket: wrong bearer token');
    if (id !== undefined)
      session.send(
        errorResponse(id, rpcErrorCodes.INVALID_REQUEST, 'Invalid Request: wrong bearer token', { httpStatus: 401 }),
      );
    session.close(closeCodes.UNAUTHORIZED, 'unauthorized: wrong bearer token');
    return;
  }
  session.markAuthenticated();
  if (id !== undefined) session.send(successResponse(id, true));
}

/** One of the built-ins, answered when it has an id. */
export function runBuiltin(session: WsSession, message: Record<string, unknown>): void {
  const id = message.id as Id;
  const answer = (value: unknown): void => {
    if (id !== undefined) session.send(successResponse(id, value));
  };
  const invalid = (reason: string): void => {
    if (id !== undefined) session.send(errorResponse(id, rpcErrorCodes.INVALID_PARAMS, `Invalid params: ${reason}`));
  };
  switch (message.method) {
    case 'rpc.auth':
      runAuth(session, message);
      return;
    case 'rpc.cancel': {
      const target = readCancelId(message.params);
      if (target === undefined) return invalid('rpc.cancel needs { "id": <the request id> }');
      session.calls.cancel(InboundCalls.key(target));
      return answer(true);
    }
    default: {
      const topics = readTopics(message.params);
      if (typeof topics === 'string') return invalid(topics);
      if (message.method === 'rpc.unsubscribe') session.owner.unsubscribe(session, topics);
      else {
        const added = [...new Set(topics.filter((name) => !session.topics.has(name)))];
        const limit = session.owner.ws.maxSubscriptions;
        if (session.topics.size + added.length > limit) return invalid(`at most ${limit} names per socket`);
        session.owner.subscribe(session, added);
      }
      return answer([...session.topics].sort());
    }
  }
}
