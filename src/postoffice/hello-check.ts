// The server's verdict on a ClientHello: which reject reason and detail to answer with, or none.
// Pure; the listener in listen.ts reads the hello, sends the reject and runs the rest of the handshake.
import { VERSION, hasFs } from './handshake.js';
import type { Hello } from './handshake.js';
import type { KeyRing } from './secret.js';
import { FLAG_CTX } from './call-context.js';
import { FLAG_STREAM } from './stream-entries.js';
import { FLAG_FS, suites } from './suite.js';
import type { RejectReason } from './suite.js';

/** What the listener accepts, and how full it is, at the moment a hello arrives. */
export interface HelloPolicy {
  suiteIds: readonly number[];
  codecIds: readonly number[];
  requireForwardSecrecy: boolean | undefined;
  keyRing: KeyRing | undefined;
  connectionCount: number;
  maxConnections: number;
}

/** The reject reason and detail for a hello this server will not take, or undefined. */
export function checkHello(hello: Hello, policy: HelloPolicy): [RejectReason, number] | undefined {
  if (hello.version !== VERSION) return ['version', VERSION];
  if (!policy.suiteIds.includes(hello.suite)) return ['suite', policy.suiteIds[0]!];
  if ((hello.flags & ~(FLAG_FS | FLAG_CTX | FLAG_STREAM)) !== 0) return ['flags', 0];
  if (hello.suite === suites.none && (hello.flags & FLAG_FS) !== 0) return ['flags', 0];
  if (hello.suite !== suites.none && policy.requireForwardSecrecy && !hasFs(hello.flags)) return ['flags', FLAG_FS];
  if (!policy.codecIds.includes(hello.codec)) return ['codec', policy.codecIds[0]!];
  if (hello.suite === suites.none ? hello.keyId !== 0 : policy.keyRing!.get(hello.keyId) === undefined)
    return ['keyId', 0];
  // Authenticated connections only: a hello needs no secret, so counting handshakes in progress
  // would let strangers make honest clients busy. Handshakes finishing together may pass the cap
  // by at most maxUnauthenticated.
  if (policy.connectionCount >= policy.maxConnections) return ['busy', 0];
  return undefined;
}

/**
 * The flags a ServerHello answers with: CTX when this server speaks it (then both sides use it, else
 * neither), STREAM only with CTX and only when this server has it on. FS as offered.
 */
export function answerFlags(offered: number, on: { callContext?: boolean; streams?: boolean }): number {
  let flags = on.callContext === false ? offered & ~(FLAG_CTX | FLAG_STREAM) : offered;
  if ((flags & FLAG_CTX) === 0 || on.streams === false) flags &= ~FLAG_STREAM;
  return flags;
}
