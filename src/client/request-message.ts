// A request as it goes on the wire: with a text codec only params are stringified and the fixed
// members written around them as text (jsonrpc/json-text.ts), the same bytes as the codec writes
// for the whole message; other codecs encode the whole message.
import { requestMessage, requestText } from '../jsonrpc/index.js';
import type { JsonRpcParams } from '../jsonrpc/index.js';
import type { Codec } from '../serializable/index.js';

/**
 * A request's message; with a text codec only params are stringified (json-text.ts) and the
 * message is that text, sent as UTF-8: the same bytes.
 */
export function encodeRequest(
  codec: Codec,
  id: number,
  method: string,
  params: JsonRpcParams | undefined,
): Buffer | string {
  if (codec.encodeMemberText !== undefined) {
    const paramsText = params === undefined ? undefined : codec.encodeMemberText(params, 'params');
    if (params === undefined || paramsText !== undefined) return requestText(id, method, paramsText);
  }
  return codec.encode(requestMessage(id, method, params));
}
