// Python Gaw 0.7 frames: the layout, an encoder, and a strict incremental decoder. Pure: no sockets,
// no awaits; the decoder loops over each chunk and checks a frame's announced length before it
// buffers a single body byte. Sealing the body (sign / encrypt) lives in seal.ts.
//
//   frame = length "\n" body        length: 1 to 10 ASCII digits, the body's size in bytes
//   plain   : body = json
//   sign    : body = HMAC-SHA256(key, json)[32] | json
//   encrypt : body = iv[16] | AES-CBC(key, iv, PKCS#7(HMAC-SHA256(key, json)[32] | json))
import { ProtocolError } from '../errors.js';

/** At most this many length digits: 9 999 999 999 is the longest length the header can name. */
const MAX_LENGTH_DIGITS = 10;

const NEWLINE = 0x0a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** Prefixes `body` with its ASCII decimal length and a newline. */
export function encodeFrame(body: Uint8Array): Buffer {
  const header = Buffer.from(`${body.length}\n`, 'ascii');
  return Buffer.concat([header, body]);
}

export interface FrameBounds {
  /** The smallest body accepted (at least 1: an empty frame is never valid). */
  minBodyBytes: number;
  /** The largest body accepted; a larger announced length closes the connection unread. */
  maxBodyBytes: number;
  /** When above 1, (length - alignOffset) must be a multiple of this (AES blocks). */
  alignBytes?: number;
  alignOffset?: number;
}

/** Checks an announced body length against the bounds; throws ProtocolError naming the problem. */
function checkBodyLength(length: number, bounds: FrameBounds): void {
  if (length > bounds.maxBodyBytes) {
    throw new ProtocolError(
      'GAW_ERR_FRAME_TOO_LARGE',
      `legacy frame announces ${length} bytes, above the cap of ${bounds.maxBodyBytes}`,
    );
  }
  if (length < Math.max(1, bounds.minBodyBytes)) {
    throw new ProtocolError(
      'GAW_ERR_BAD_FRAME',
      `legacy frame announces ${length} bytes, below the minimum of ${Math.max(1, bounds.minBodyBytes)}`,
    );
  }
  const align = bounds.alignBytes ?? 1;
  if (align > 1 && (length - (bounds.alignOffset ?? 0)) % align !== 0) {
    throw new ProtocolError(
      'GAW_ERR_BAD_FRAME',
      `legacy frame length ${length} is not a whole number of cipher blocks`,
    );
  }
}

/**
 * Cuts a byte stream into frame bodies. The header must be 1 to 10 ASCII digits then "\n"; anything
 * else (a sign, a space, "\r", an 11th digit) throws ProtocolError at the offending byte. After a
 * throw the decoder is unusable: the caller closes the connection.
 */
export class LegacyFrameDecoder {
  readonly #bounds: FrameBounds;
  /** Digits of the length seen so far, or -1 when the header is complete. */
  #digitCount = 0;
  #length = 0;
  /** Body bytes of the frame in progress, kept as the chunks they arrived in. */
  #parts: Buffer[] = [];
  #partsBytes = 0;
  #isFailed = false;

  constructor(bounds: FrameBounds) {
    this.#bounds = bounds;
  }

  /** True while part of a frame (header or body) has been received. */
  get hasPartialFrame(): boolean {
    return this.#digitCount !== 0;
  }

  /** Feeds a chunk; calls `onFrame` with every body it completes, in order. */
  push(chunk: Uint8Array, onFrame: (body: Buffer) => void): void {
    if (this.#isFailed) throw new ProtocolError('GAW_ERR_BAD_FRAME', 'legacy frame decoder used after a framing error');
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let offset = 0;
    try {
      while (offset < bytes.length) {
        if (this.#digitCount >= 0) {
          offset = this.#readHeader(bytes, offset);
          continue;
        }
        const wanted = this.#length - this.#partsBytes;
        const available = bytes.length - offset;
        if (this.#partsBytes === 0 && available >= wanted) {
          // The whole body is in this chunk: hand out a view, no copy.
          const body = bytes.subarray(offset, offset + wanted);
          offset += wanted;
          this.#reset();
          onFrame(body);
          continue;
        }
        const take = Math.min(wanted, available);
        // Copy: the socket may reuse its buffer, and this part outlives the chunk.
        this.#parts.push(Buffer.from(bytes.subarray(offset, offset + take)));
        this.#partsBytes += take;
        offset += take;
        if (this.#partsBytes === this.#length) {
          const body = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#length);
          this.#reset();
          onFrame(body);
        }
      }
    } catch (err) {
      if (err instanceof ProtocolError) this.#isFailed = true;
      throw err;
    }
  }

  /** Reads header bytes from `offset`; returns the offset after what it consumed. */
  #readHeader(bytes: Buffer, offset: number): number {
    while (offset < bytes.length) {
      const byte = bytes[offset++]!;
      if (byte === NEWLINE) {
        if (this.#digitCount === 0) {
          throw new ProtocolError('GAW_ERR_BAD_FRAME', 'legacy frame header has no length digits before the newline');
        }
        checkBodyLength(this.#length, this.#bounds);
        this.#digitCount = -1;
        return offset;
      }
      if (byte < DIGIT_0 || byte > DIGIT_9) {
        throw new ProtocolError(
          'GAW_ERR_BAD_FRAME',
          `legacy frame length must be ASCII digits then a newline; got byte 0x${byte.toString(16).padStart(2, '0')}`,
        );
      }
      if (this.#digitCount === MAX_LENGTH_DIGITS) {
        throw new ProtocolError(
          'GAW_ERR_FRAME_TOO_LARGE',
          `legacy frame length has more than ${MAX_LENGTH_DIGITS} digits`,
        );
      }
      this.#digitCount += 1;
      this.#length = this.#length * 10 + (byte - DIGIT_0);
    }
    return offset;
  }

  #reset(): void {
    this.#digitCount = 0;
    this.#length = 0;
    this.#parts = [];
    this.#partsBytes = 0;
  }
}
