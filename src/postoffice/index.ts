// The postoffice: bytes to authenticated frames on a socket. Reached only through this file.
export { Connection } from './connection.js';
export type { ConnectionEvents, Session } from './connection.js';
export { dial } from './connect.js';
export { HandshakeRejectedError } from '../errors.js';
export type { DialOptions } from './connect.js';
export { Listener } from './listen.js';
export { countOpenDescriptors, isOutOfDescriptors, openFileLimit, watchServerErrors } from './descriptors.js';
export type { AuthFailure, ListenerOptions } from './listen.js';
export { checkInteger, defaultConnectTimeoutMs, postofficeDefaults, resolveLimits } from './options.js';
export type { PostofficeLimits } from './options.js';
export { KeyRing, parseSecret } from './secret.js';
export { checkCodecName, chooseSuite, suites } from './suite.js';
export type { CodecName, SuiteName } from './suite.js';
export {
  FLAG_CTX,
  callHead,
  cancelEntry,
  contextLimits,
  entryKinds,
  isRequestId,
  isTraceparent,
  isTracestate,
  readCallEntry,
  readCancelEntry,
} from './call-context.js';
export type { WireContext } from './call-context.js';
export type { EntryHead } from './frame.js';
export {
  FLAG_STREAM,
  STREAM_WINDOW_FIELD,
  creditEntry,
  itemHead,
  readCreditEntry,
  readItemEntry,
  streamEntryKinds,
  streamLimits,
} from './stream-entries.js';
