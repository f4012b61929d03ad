// The GAWP/1 handshake as pure functions over bytes: hellos, rejects, the transcript hash, the
// HKDF key schedule and the confirms. Nothing here touches a socket or a clock; randoms and
// ephemeral keys are passed in, so the known-answer vectors can drive every function.
//
//   ClientHello  73 B  "GAWP" | ver=1 | suite | flags | codec | key_id | client_random[32] | client_eph[32]
//   ServerHello 105 B  "GAWP" | ver=1 | suite | flags | codec | key_id | server_random[32] | server_eph[32] | server_confirm[32]
//                      (73 B in suite none: no confirm)
//   ClientFinish 32 B  client_confirm[32]                  (not sent in suite none)
//   ServerReject  8 B  "GAWP" | ver=1 | 0xFF | reason | detail
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  timingSafeEqual,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { FLAG_FS, suites } from './suite.js';

export const MAGIC = Buffer.from('GAWP', 'latin1');
export const VERSION = 1;
export const HELLO_BYTES = 73;
export const SERVER_HELLO_BYTES = 105;
export const CONFIRM_BYTES = 32;
export const REJECT_BYTES = 8;
export const REJECT_MARKER = 0xff;

export interface Hello {
  version: number;
  suite: number;
  flags: number;
  codec: number;
  keyId: number;
  random: Buffer;
  /** The raw X25519 public key, or 32 zero bytes without forward secrecy. */
  eph: Buffer;
}

export interface Reject {
  reason: number;
  detail: number;
}

export interface SessionKeys {
  c2sEnc: Buffer;
  c2sMac: Buffer;
  s2cEnc: Buffer;
  s2cMac: Buffer;
  confS: Buffer;
  confC: Buffer;
}

const ZERO32 = Buffer.alloc(32);
const INFO_PREFIX = Buffer.from('gaw postoffice v1', 'latin1');
const SERVER_FINISHED = Buffer.from('server finished', 'latin1');
const CLIENT_FINISHED = Buffer.from('client finished', 'latin1');

/** The first 73 bytes of either hello. */
export function encodeHello(hello: Omit<Hello, 'version'> & { version?: number }): Buffer {
  const out = Buffer.allocUnsafe(HELLO_BYTES);
  MAGIC.copy(out, 0);
  out[4] = hello.version ?? VERSION;
  out[5] = hello.suite;
  out[6] = hello.flags;
  out[7] = hello.codec;
  out[8] = hello.keyId;
  hello.random.copy(out, 9, 0, 32);
  (hello.eph.length === 32 ? hello.eph : ZERO32).copy(out, 41, 0, 32);
  return out;
}

/** True when the first bytes are GAWP's magic (as far as they go). */
export function hasMagic(bytes: Buffer): boolean {
  const n = Math.min(bytes.length, 4);
  for (let i = 0; i < n; i++) if (bytes[i] !== MAGIC[i]) return false;
  return true;
}

/** Reads the 73-byte body of a hello. The caller has checked the magic and the length. */
export function decodeHello(bytes: Buffer): Hello {
  return {
    version: bytes[4]!,
    suite: bytes[5]!,
    flags: bytes[6]!,
    codec: bytes[7]!,
    keyId: bytes[8]!,
    random: Buffer.from(bytes.subarray(9, 41)),
    eph: Buffer.from(bytes.subarray(41, 73)),
  };
}

export function encodeReject(reason: number, detail: number): Buffer {
  const out = Buffer.allocUnsafe(REJECT_BYTES);
  MAGIC.copy(out, 0);
  out[4] = VERSION;
  out[5] = REJECT_MARKER;
  out[6] = reason;
  out[7] = detail;
  return out;
}

/** A server's first bytes are a reject when byte 5 is 0xFF. */
export function isReject(bytes: Buffer): boolean {
  return bytes.length >= 6 && bytes[5] === REJECT_MARKER;
}

export function decodeReject(bytes: Buffer): Reject {
  return { reason: bytes[6]!, detail: bytes[7]! };
}

/** The ServerHello's length for a suite: 73 in suite none, 105 otherwise. */
export function serverHelloBytes(suite: number): number {
  return suite === suites.none ? HELLO_BYTES : SERVER_HELLO_BYTES;
}

export function transcriptHash(clientHello: Buffer, serverHello: Buffer): Buffer {
  return createHash('sha256')
    .update(clientHello.subarray(0, HELLO_BYTES))
    .update(serverHello.subarray(0, HELLO_BYTES))
    .digest();
}

export interface KeyScheduleInput {
  psk: Buffer;
  /** The X25519 shared secret with forward secrecy; absent without. */
  shared?: Buffer | undefined;
  clientRandom: Buffer;
  serverRandom: Buffer;
  th: Buffer;
}

export function deriveKeys(input: KeyScheduleInput): SessionKeys {
  const ikm = input.shared ? Buffer.concat([input.psk, input.shared]) : input.psk;
  const salt = Buffer.concat([input.clientRandom, input.serverRandom]);
  const info = Buffer.concat([INFO_PREFIX, input.th]);
  const okm = Buffer.from(hkdfSync('sha256', ikm, salt, info, 192));
  return {
    c2sEnc: okm.subarray(0, 32),
    c2sMac: okm.subarray(32, 64),
    s2cEnc: okm.subarray(64, 96),
    s2cMac: okm.subarray(96, 128),
    confS: okm.subarray(128, 160),
    confC: okm.subarray(160, 192),
  };
}

export function serverConfirm(keys: SessionKeys, th: Buffer): Buffer {
  return createHmac('sha256', keys.confS).update(SERVER_FINISHED).update(th).digest();
}

export function clientConfirm(keys: SessionKeys, th: Buffer): Buffer {
  return createHmac('sha256', keys.confC).update(CLIENT_FINISHED).update(th).digest();
}

/** Constant-time equality of two confirms (or tags); false for different lengths. */
export function isSameTag(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

// X25519 through node:crypto, which throws for low-order points. Public keys cross as JWK (about
// 10x cheaper to import and export than DER here); a fixed private scalar (the known-answer
// vectors) is imported through its PKCS#8 DER prefix, since a private JWK needs the public half.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function rawPublicKey(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
}

export interface EphemeralKey {
  privateKey: KeyObject;
  publicKey: Buffer;
}

export function generateEphemeral(): EphemeralKey {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicKey: rawPublicKey(publicKey) };
}

/** An ephemeral key from a fixed 32-byte private scalar (for known-answer tests). */
export function ephemeralFromPrivate(raw: Buffer): EphemeralKey {
  const privateKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) };
}

/**
 * The X25519 shared secret with a peer's raw public key, or undefined when the peer's key is not
 * usable (not a valid encoding, a low-order point, or an all-zero result).
 */
export function agree(mine: EphemeralKey, peerPublic: Buffer): Buffer | undefined {
  let shared: Buffer;
  try {
    if (peerPublic.length !== 32) return undefined;
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: peerPublic.toString('base64url') },
      format: 'jwk',
    });
    shared = diffieHellman({ privateKey: mine.privateKey, publicKey });
  } catch {
    return undefined;
  }
  let bits = 0;
  for (let i = 0; i < shared.length; i++) bits |= shared[i]!;
  return bits === 0 ? undefined : shared;
}

export function hasFs(flags: number): boolean {
  return (flags & FLAG_FS) !== 0;
}
