// What a ServerReject means to a client: the reason and detail bytes turned into a
// HandshakeRejectedError that says what the server wants. Pure; the dial that reads the
// reject and decides whether to redial is in connect.ts.
import { HandshakeRejectedError } from '../errors.js';
import { FLAG_FS, codecNames, rejectReasons, suiteNames } from './suite.js';
import type { CodecName, RejectReason } from './suite.js';

/** Turns a ServerReject into an error that says what the server wants. */
export function rejected(
  { reason, detail }: { reason: number; detail: number },
  offered: { codec?: CodecName | undefined; keyId?: number | undefined },
): HandshakeRejectedError {
  const why = (() => {
    switch (reason) {
      case rejectReasons.version:
        return `the server speaks GAWP up to version ${detail}`;
      case rejectReasons.suite:
        return `server requires suite ${suiteNames[detail] ?? `#${detail}`}`;
      case rejectReasons.codec:
        return `server does not support codec ${offered.codec ?? 'json'} (it accepts ${codecNames[detail] ?? `#${detail}`})`;
      case rejectReasons.keyId:
        return `server has no secret with key id ${offered.keyId ?? 0}`;
      case rejectReasons.busy:
        return 'server is busy (too many connections)';
      case rejectReasons.flags:
        return detail & FLAG_FS ? 'server requires forward secrecy' : 'server rejected the hello flags';
      default:
        return `server rejected the handshake (reason ${reason})`;
    }
  })();
  const name = (Object.keys(rejectReasons) as RejectReason[]).find((k) => rejectReasons[k] === reason) ?? 'unknown';
  const requiredSuite = reason === rejectReasons.suite ? suiteNames[detail] : undefined;
  const err = new HandshakeRejectedError(why, name, requiredSuite);
  // Set when the hello offered CTX and a server from before it refused the flags: dial retries.
  (err as { isOldServer?: boolean }).isOldServer = reason === rejectReasons.flags && (detail & FLAG_FS) === 0;
  return err;
}
