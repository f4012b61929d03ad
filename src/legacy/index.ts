// The legacy module: Python Gaw 0.7's wire protocol on an opt-in listener of its own and in a client,
// so Python services and clients interoperate during a migration. It is never negotiated on a
// GAWP/1 port. Beyond the client and listener, the pure codec parts are exported for the tests.
export { LegacyListener } from './listener.js';
export { LegacyClient } from './client.js';
export type { LegacyCallOptions } from './client.js';
export type { LegacyListenerOptions, LegacyClientOptions } from './options.js';
export { LegacyFrameDecoder, encodeFrame } from './frame.js';
export type { FrameBounds } from './frame.js';
export { legacyModes, resolveSealing, sealBody, openBody, frameBounds } from './seal.js';
export { parsePythonJson } from './json-parser.js';
export { stringifyPython } from './json-writer.js';
export { envelopeBytes, parseJsonBytes, sealFrame } from './codec.js';
export { requestEnvelope, readRequest, replyEnvelope, readReply, toJsonRpc, fromJsonRpc, isSameId } from './message.js';
export type { LegacyRequest } from './message.js';
export { toPythonData, fromPythonData } from './dialect.js';
