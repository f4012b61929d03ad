// Seal and open one frame per suite, with the implicit per-direction sequence number. Pure: no
// sockets, no clock; the IV source is injectable for the known-answer vectors. The only file in
// gaw that imports tweetnacl. The frame layouts are drawn in frame.ts.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import nacl from 'tweetnacl';
import { ProtocolError } from '../errors.js';
import { suites } from './suite.js';

/** Bytes a suite adds around a payload (type byte and tag included; cbc's padding excluded). */
export const suiteOverhead = { 0: 1, 1: 33, 2: 49, 3: 18 } as const;
/** The smallest `len` a suite allows. */
export const suiteMinimum = { 0: 1, 1: 33, 2: 65, 3: 18 } as const;

const TAG_BYTES = 32;
const IV_BYTES = 16;
/** A connection is closed before any counter reaches 2^53 - 1. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER - 1;

/**
 * Null when `len` (the frame's u32 length) is acceptable for the suite and the payload cap;
 * otherwise the reason, for the caller's fatal error. Checked before anything is buffered.
 */
export function checkFrameLength(
  suite: number,
  len: number,
  maxPayloadBytes: number,
): 'small' | 'large' | 'misaligned' | null {
  const min = suiteMinimum[suite as 0] ?? 1;
  if (len < min) return 'small';
  // cbc pads up to 16 bytes past the payload cap.
  const max = maxPayloadBytes + (suiteOverhead[suite as 0] ?? 1) + (suite === suites.cbc ? 16 : 0);
  if (len > max) return 'large';
  if (suite === suites.cbc && (len - 49) % 16 !== 0) return 'misaligned';
  return null;
}

export interface OpenedFrame {
  type: number;
  payload: Buffer;
}

export interface Sealer {
  /** The whole frame, its 4-byte length included. Advances the send counter. */
  seal(type: number, payload: Buffer): Buffer;
  /**
   * The same frame as pieces to write in order (one writev), so a large payload is never copied
   * into a second buffer; the pieces may include `payload` itself. Advances the send counter.
   */
  sealParts(type: number, payload: Buffer): Buffer[];
  readonly seq: number;
}

export interface Opener {
  /** Authenticates and opens a whole frame (length included); throws ProtocolError on any failure. */
  open(frame: Buffer): OpenedFrame;
  readonly seq: number;
}

export interface SealOptions {
  /** Where cbc IVs come from; by default a pool refilled from the CSPRNG in bulk. */
  nextIv?: () => Buffer;
}

function authFailed(): ProtocolError {
  return new ProtocolError('GAW_ERR_AUTH_FAILED', 'frame authentication failed');
}

function writeSeq(target: Buffer, offset: number, seq: number): void {
  target.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), offset);
  target.writeUInt32BE(seq >>> 0, offset + 4);
}

function checkSeq(seq: number): void {
  if (seq >= MAX_SEQ)
    throw new ProtocolError('GAW_ERR_SEQ_EXHAUSTED', 'the frame counter is exhausted; open a new connection');
}

/** 16-byte IVs drawn from one randomBytes call per 256 frames (randomBytes(16) alone costs ~2 µs). */
export function createIvPool(ivsPerRefill = 256): () => Buffer {
  let pool = Buffer.alloc(0);
  let offset = 0;
  return () => {
    if (offset === pool.length) {
      pool = randomBytes(IV_BYTES * ivsPerRefill);
      offset = 0;
    }
    const iv = pool.subarray(offset, offset + IV_BYTES);
    offset += IV_BYTES;
    return iv;
  };
}

export function createSealer(
  suite: number,
  encKey: Buffer | undefined,
  macKey: Buffer | undefined,
  options: SealOptions = {},
): Sealer {
  let seq = 0;
  const seqBytes = Buffer.alloc(8);
  /** The 5 bytes every frame starts with: len and type. */
  const header = (type: number, len: number, extraBytes = 0): Buffer => {
    const head = Buffer.allocUnsafe(5 + extraBytes);
    head.writeUInt32BE(len, 0);
    head[4] = type;
    return head;
  };
  let sealParts: (type: number, payload: Buffer) => Buffer[];
  switch (suite) {
    case suites.none:
      sealParts = (type, payload) => [header(type, 1 + payload.length), payload];
      break;
    case suites.sign:
      sealParts = (type, payload) => {
        const head = header(type, 1 + payload.length + TAG_BYTES);
        writeSeq(seqBytes, 0, seq);
        return [head, payload, createHmac('sha256', macKey!).update(seqBytes).update(head).update(payload).digest()];
      };
      break;
    case suites.cbc: {
      const nextIv = options.nextIv ?? createIvPool();
      sealParts = (type, payload) => {
        const ctBytes = (Math.floor(payload.length / 16) + 1) * 16;
        const head = header(type, 1 + IV_BYTES + ctBytes + TAG_BYTES, IV_BYTES);
        const iv = nextIv();
        iv.copy(head, 5);
        const cipher = createCipheriv('aes-256-cbc', encKey!, iv);
        const body = cipher.update(payload);
        const last = cipher.final();
        writeSeq(seqBytes, 0, seq);
        const tag = createHmac('sha256', macKey!).update(seqBytes).update(head).update(body).update(last).digest();
        return [head, body, last, tag];
      };
      break;
    }
    case suites.secretbox: {
      const key = new Uint8Array(encKey!);
      const nonce = new Uint8Array(24);
      const nonceView = Buffer.from(nonce.buffer, nonce.byteOffset, 24);
      sealParts = (type, payload) => {
        const inner = new Uint8Array(1 + payload.length);
        inner[0] = type;
        inner.set(payload, 1);
        writeSeq(nonceView, 16, seq);
        const box = nacl.secretbox(inner, nonce, key);
        return [header(type, 1 + box.length), Buffer.from(box.buffer, box.byteOffset, box.length)];
      };
      break;
    }
    default:
      throw new RangeError(`unknown suite ${suite}`);
  }
  return {
    get seq() {
      return seq;
    },
    sealParts(type, payload) {
      checkSeq(seq);
      const parts = sealParts(type, payload);
      seq++;
      return parts;
    },
    seal(type, payload) {
      return Buffer.concat(this.sealParts(type, payload));
    },
  };
}

/** The PKCS#7 pad length at the end of `plain`; throws when the padding is malformed. */
function pkcs7PadBytes(plain: Buffer): number {
  const pad = plain.length === 0 ? 0 : plain[plain.length - 1]!;
  if (pad < 1 || pad > 16 || pad > plain.length) throw new RangeError('bad PKCS#7 padding');
  for (let i = plain.length - pad; i < plain.length; i++)
    if (plain[i] !== pad) throw new RangeError('bad PKCS#7 padding');
  return pad;
}

/**
 * Checks a sign or cbc frame's tag against seq64 | everything before the tag, in constant time,
 * before anything else reads the frame; returns where the tag starts. Throws on a mismatch.
 */
function checkTag(frame: Buffer, macKey: Buffer, seqBytes: Buffer, seq: number): number {
  const end = frame.length - TAG_BYTES;
  writeSeq(seqBytes, 0, seq);
  const expected = createHmac('sha256', macKey).update(seqBytes).update(frame.subarray(0, end)).digest();
  if (!timingSafeEqual(expected, frame.subarray(end))) throw authFailed();
  return end;
}

export function createOpener(suite: number, encKey: Buffer | undefined, macKey: Buffer | undefined): Opener {
  let seq = 0;
  const seqBytes = Buffer.alloc(8);
  let open: (frame: Buffer) => OpenedFrame;
  switch (suite) {
    case suites.none:
      open = (frame) => ({ type: frame[4]!, payload: frame.subarray(5) });
      break;
    case suites.sign:
      open = (frame) => ({ type: frame[4]!, payload: frame.subarray(5, checkTag(frame, macKey!, seqBytes, seq)) });
      break;
    case suites.cbc:
      open = (frame) => {
        const end = checkTag(frame, macKey!, seqBytes, seq);
        try {
          // Padding is checked here rather than by OpenSSL, so the plaintext is not copied again.
          const decipher = createDecipheriv('aes-256-cbc', encKey!, frame.subarray(5, 5 + IV_BYTES)).setAutoPadding(
            false,
          );
          const plain = decipher.update(frame.subarray(5 + IV_BYTES, end));
          decipher.final();
          return { type: frame[4]!, payload: plain.subarray(0, plain.length - pkcs7PadBytes(plain)) };
        } catch (err) {
          throw new ProtocolError('GAW_ERR_AUTH_FAILED', 'frame decryption failed after a good tag (peer bug)', {
            cause: err,
          });
        }
      };
      break;
    case suites.secretbox: {
      const key = new Uint8Array(encKey!);
      const nonce = new Uint8Array(24);
      const nonceView = Buffer.from(nonce.buffer, nonce.byteOffset, 24);
      open = (frame) => {
        writeSeq(nonceView, 16, seq);
        const inner = nacl.secretbox.open(frame.subarray(5), nonce, key);
        if (inner === null || inner.length < 1 || inner[0] !== frame[4]) throw authFailed();
        return { type: frame[4]!, payload: Buffer.from(inner.buffer, inner.byteOffset + 1, inner.length - 1) };
      };
      break;
    }
    default:
      throw new RangeError(`unknown suite ${suite}`);
  }
  return {
    get seq() {
      return seq;
    },
    open(frame) {
      checkSeq(seq);
      const opened = open(frame);
      seq++;
      return opened;
    },
  };
}
