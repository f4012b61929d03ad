// Encodes one reply (a response or a batch of them) for a GAWP connection, so that it can always be
// sent: a result the codec cannot encode, or one over the frame cap, becomes a -32603 error for its
// id, and the caller learns which responses were replaced and why (and for which method, to log it).
// Pure: no socket, no logging.
import { errorResponse, quote, readId, repairReply, rpcErrorCodes, successText } from '../jsonrpc/index.js';
import type { JsonRpcId } from '../jsonrpc/index.js';
import type { Codec } from '../serializable/index.js';

/** Why a response was replaced; also the "rpc call" log line's outcome. */
export const replyFailures = {
  unencodable: 'unencodable reply',
  tooLarge: 'reply too large',
} as const;

export type ReplyFailure = (typeof replyFailures)[keyof typeof replyFailures];

export interface EncodedReply {
  bytes: Buffer;
  /** Each response of the original reply that was replaced by an error, with why and its size. */
  failures: Map<object, { failure: ReplyFailure; replyBytes?: number }> | undefined;
}

/**
 * `reply` encoded, or undefined when it cannot be, or is over `maxBytes` (encodeReply then says
 * why). A single success with a text codec has only its result stringified (json-text.ts) and is
 * sent as that text: the same bytes for less work.
 */
export function replyMessage(reply: unknown, codec: Codec, maxBytes: number): Buffer | string | undefined {
  try {
    const result = (reply as { result?: unknown } | undefined)?.result;
    // Only a success response has a result member (an undefined result is sent as null).
    if (result !== undefined && codec.encodeMemberText !== undefined) {
      const text = codec.encodeMemberText(result, 'result');
      if (text !== undefined) {
        const message = successText((reply as { id: JsonRpcId }).id, text);
        // UTF-8 takes at most 3 bytes per UTF-16 unit: count only when it might not fit.
        return message.length * 3 <= maxBytes || Buffer.byteLength(message) <= maxBytes ? message : undefined;
      }
    }
    const bytes = codec.encode(reply);
    return bytes.length <= maxBytes ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** Encodes `reply`; every replacement is a -32603 error for the same id, never a thrown error. */
export function encodeReply(reply: unknown, codec: Codec, maxBytes: number): EncodedReply {
  let failures: EncodedReply['failures'];
  let sendable = reply;
  let bytes: Buffer;
  try {
    bytes = codec.encode(reply);
  } catch {
    sendable = repairReply(reply, (value) => codec.encode(value));
    failures = replaced(reply, sendable, () => ({ failure: replyFailures.unencodable }));
    bytes = codec.encode(sendable);
  }
  if (bytes.length <= maxBytes) return { bytes, failures };
  const over = (response: unknown, size: number) =>
    errorResponse(
      readId(response),
      rpcErrorCodes.INTERNAL_ERROR,
      `Internal error: the reply is ${size} bytes, over the ${maxBytes}-byte frame cap (maxPayloadBytes); the result was not sent`,
    );
  failures ??= new Map();
  if (!Array.isArray(sendable)) {
    failures.set(reply as object, { failure: replyFailures.tooLarge, replyBytes: bytes.length });
    return { bytes: codec.encode(over(sendable, bytes.length)), failures };
  }
  // A batch: only the responses too large on their own become errors; if it still is, all of it does.
  const original = reply as unknown[];
  const capped = sendable.map((response, i) => {
    const size = codec.encode(response).length;
    if (size <= maxBytes) return response;
    failures!.set(original[i] as object, { failure: replyFailures.tooLarge, replyBytes: size });
    return over(response, size);
  });
  bytes = codec.encode(capped);
  if (bytes.length <= maxBytes) return { bytes, failures };
  const whole = bytes.length;
  for (const response of original)
    if (!failures.has(response as object)) failures.set(response as object, { failure: replyFailures.tooLarge });
  const message = `Internal error: the batch reply is ${whole} bytes, over the ${maxBytes}-byte frame cap (maxPayloadBytes); no result of it was sent`;
  return {
    bytes: codec.encode(
      capped.map((response) => errorResponse(readId(response), rpcErrorCodes.INTERNAL_ERROR, message)),
    ),
    failures,
  };
}

/** The responses of `before` that `after` (its repaired copy) replaced, each with `why()`. */
function replaced(
  before: unknown,
  after: unknown,
  why: () => { failure: ReplyFailure },
): Map<object, { failure: ReplyFailure; replyBytes?: number }> {
  const failures = new Map<object, { failure: ReplyFailure; replyBytes?: number }>();
  if (Array.isArray(before) && Array.isArray(after)) {
    for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) failures.set(before[i] as object, why());
  } else if (before !== after) failures.set(before as object, why());
  return failures;
}

/** The method of the request (or the batch element) with this id, for log lines; undefined if unknown. */
export function methodOf(request: unknown, id: unknown): string | undefined {
  const elements = Array.isArray(request) ? request : [request];
  for (const element of elements) {
    if (typeof element === 'object' && element !== null && (element as { id?: unknown }).id === id) {
      const { method } = element as { method?: unknown };
      if (typeof method !== 'string') return undefined;
      return /^[\w.$-]{1,200}$/.test(method) ? method : quote(method);
    }
  }
  return undefined;
}
