// Python Gaw 0.7's payload protection, byte for byte: the raw base64-decoded secret is both the
// HMAC-SHA256 key and the AES key (its length picks AES-128/192/256-CBC), MAC-then-encrypt. Pure:
// no sockets. Opening checks the length, then padding and MAC together in constant time; every failure
// is the same ProtocolError, and the caller closes the connection without writing anything.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ProtocolError, UsageError } from '../errors.js';
import { parseSecret } from '../postoffice/index.js';
import type { FrameBounds } from './frame.js';

/** How a legacy connection protects its payloads; chosen by configuration, never negotiated. */
export const legacyModes = {
  plain: 'plain',
  sign: 'sign',
  encrypt: 'encrypt',
} as const;
export type LegacyMode = (typeof legacyModes)[keyof typeof legacyModes];

const MAC_BYTES = 32;
const IV_BYTES = 16;
const BLOCK_BYTES = 16;

/** The mode and key a connection uses; `key` is absent in plain mode. Never logged. */
export interface LegacySealing {
  readonly mode: LegacyMode;
  readonly key?: Buffer;
}

/**
 * Resolves `secret` / `encrypt` options the way Python Gaw does: no secret is plain, a secret signs,
 * a secret with `encrypt` encrypts. The secret is validated (GAW_ERR_BAD_SECRET, value never shown).
 */
export function resolveSealing(secret: string | undefined, encrypt: boolean | undefined): LegacySealing {
  if (encrypt !== undefined && typeof encrypt !== 'boolean') {
    throw new UsageError('GAW_ERR_INVALID_OPTION', `encrypt must be a boolean, not ${typeof encrypt}`);
  }
  if (secret === undefined) {
    if (encrypt) throw new UsageError('GAW_ERR_INVALID_OPTION', 'encrypt needs a secret');
    return { mode: legacyModes.plain };
  }
  const key = parseSecret(secret);
  return { mode: encrypt ? legacyModes.encrypt : legacyModes.sign, key };
}

/** The bytes sealing adds around the JSON text at most. */
function sealOverheadBytes(mode: LegacyMode): number {
  if (mode === legacyModes.sign) return MAC_BYTES;
  if (mode === legacyModes.encrypt) return IV_BYTES + MAC_BYTES + BLOCK_BYTES;
  return 0;
}

/** Frame body bounds for a mode: JSON of 1 to `maxJsonBytes` bytes plus the mode's overhead. */
export function frameBounds(mode: LegacyMode, maxJsonBytes: number): FrameBounds {
  const maxBodyBytes = maxJsonBytes + sealOverheadBytes(mode);
  if (mode === legacyModes.sign) return { minBodyBytes: MAC_BYTES + 1, maxBodyBytes };
  if (mode === legacyModes.encrypt) {
    // iv, then at least the block holding the MAC's tail, a JSON byte and padding.
    return {
      minBodyBytes: IV_BYTES + MAC_BYTES + BLOCK_BYTES,
      maxBodyBytes,
      alignBytes: BLOCK_BYTES,
      alignOffset: IV_BYTES,
    };
  }
  return { minBodyBytes: 1, maxBodyBytes };
}

function cipherName(key: Buffer): string {
  return `aes-${key.length * 8}-cbc`;
}

function mac(key: Buffer, json: Uint8Array): Buffer {
  return createHmac('sha256', key).update(json).digest();
}

/** Seals JSON bytes into a frame body. `iv` is for known-answer tests; normally a fresh random one. */
export function sealBody(sealing: LegacySealing, json: Uint8Array, iv?: Uint8Array): Buffer {
  const { mode, key } = sealing;
  if (mode === legacyModes.plain || key === undefined)
    return Buffer.from(json.buffer, json.byteOffset, json.byteLength);
  const signed = Buffer.concat([mac(key, json), json]);
  if (mode === legacyModes.sign) return signed;
  const ivBytes = iv === undefined ? randomBytes(IV_BYTES) : Buffer.from(iv);
  if (ivBytes.length !== IV_BYTES) throw new UsageError('GAW_ERR_INVALID_OPTION', `iv must be ${IV_BYTES} bytes`);
  const cipher = createCipheriv(cipherName(key), key, ivBytes);
  return Buffer.concat([ivBytes, cipher.update(signed), cipher.final()]);
}

function authFailed(): ProtocolError {
  // One message for every failure: a peer learns nothing about which check failed.
  return new ProtocolError(
    'GAW_ERR_AUTH_FAILED',
    'legacy frame failed authentication (wrong secret or tampered bytes)',
  );
}

/** Checks a signed body (MAC | json) in constant time and returns the JSON bytes. */
function openSigned(key: Buffer, body: Buffer): Buffer {
  if (body.length <= MAC_BYTES) throw authFailed();
  const json = body.subarray(MAC_BYTES);
  if (!timingSafeEqual(mac(key, json), body.subarray(0, MAC_BYTES))) throw authFailed();
  return json;
}

/**
 * Opens a frame body and returns the JSON bytes. Throws ProtocolError GAW_ERR_AUTH_FAILED for a bad
 * MAC, bad padding or a misaligned length; the caller must then close without replying. The MAC is
 * computed whether or not the padding is valid, so the two failures take about the same time.
 */
export function openBody(sealing: LegacySealing, body: Buffer): Buffer {
  const { mode, key } = sealing;
  if (mode === legacyModes.plain || key === undefined) return body;
  if (mode === legacyModes.sign) return openSigned(key, body);
  const ctBytes = body.length - IV_BYTES;
  if (ctBytes < MAC_BYTES + BLOCK_BYTES || ctBytes % BLOCK_BYTES !== 0) throw authFailed();
  const decipher = createDecipheriv(cipherName(key), key, body.subarray(0, IV_BYTES));
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(body.subarray(IV_BYTES)), decipher.final()]);
  // PKCS#7, checked without an early exit: every one of the last `pad` bytes must equal `pad`.
  const pad = plain[plain.length - 1]!;
  let isPadBad = pad === 0 || pad > BLOCK_BYTES ? 1 : 0;
  for (let i = 1; i <= BLOCK_BYTES; i++) {
    const isInPad = i <= pad ? 1 : 0;
    isPadBad |= isInPad & (plain[plain.length - i] === pad ? 0 : 1);
  }
  const end = plain.length - (isPadBad ? 0 : pad);
  const json = plain.subarray(MAC_BYTES, Math.max(MAC_BYTES, end));
  const isMacGood = timingSafeEqual(mac(key, json), plain.subarray(0, MAC_BYTES));
  if (isPadBad || !isMacGood || json.length === 0) throw authFailed();
  return json;
}
