// GAWP/1 frames: the layout, and an incremental decoder that cuts a byte stream into whole frames.
// The decoder never touches a socket and never awaits: it loops over each chunk, checks a frame's
// length before buffering its body, and copies only frames that arrive split across chunks.
//
//   len(u32) counts the bytes after it; type: 1 DATA, 2 CLOSE (empty payload); seq is implicit.
//   none      : len | type | payload
//   sign      : len | type | payload | tag[32]       tag = HMAC-SHA256(dir_mac, seq64 | len | type | payload)
//   cbc       : len | type | iv[16] | ct | tag[32]   ct = AES-256-CBC(dir_enc, iv, PKCS#7(payload))
//                                                    tag = HMAC-SHA256(dir_mac, seq64 | len | type | iv | ct)
//   secretbox : len | type | box                     box = secretbox(type | payload, 16 zero bytes | seq64, dir_enc)
//
//   A DATA payload holds one or more messages, each  u32 length | message bytes  (length 0 is fatal).
import { ProtocolError } from '../errors.js';
import { checkFrameLength } from './seal.js';

export const LEN_BYTES = 4;

/**
 * The most messages one DATA frame may carry. Each is handled synchronously when its frame
 * arrives, so this bounds how long one frame can hold the event loop; senders split past it.
 */
export const MAX_MESSAGES_PER_FRAME = 4096;

export interface FrameDecoderOptions {
  suite: number;
  maxPayloadBytes: number;
}

/**
 * Cuts a byte stream into frames (each returned whole, its length prefix included). Throws
 * ProtocolError for a length outside the suite's bounds as soon as the 4 length bytes are in.
 */
export class FrameDecoder {
  readonly #suite: number;
  readonly #maxPayloadBytes: number;
  /** Bytes of the frame in progress (its length prefix included), when it spans chunks. */
  #parts: Buffer[] = [];
  #partsBytes = 0;
  /** The whole frame's size once its length is known; -1 while fewer than 4 bytes are in. */
  #frameBytes = -1;

  constructor(options: FrameDecoderOptions) {
    this.#suite = options.suite;
    this.#maxPayloadBytes = options.maxPayloadBytes;
  }

  /** True while part of a frame has been received. */
  get hasPartialFrame(): boolean {
    return this.#partsBytes > 0;
  }

  /** Buffered bytes of the frame in progress. */
  get bufferedBytes(): number {
    return this.#partsBytes;
  }

  /** Feeds a chunk; calls `onFrame` for every frame it completes, in order. */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#partsBytes === 0) {
        // Fast path: frames wholly inside this chunk are handed out as views, without a copy.
        if (chunk.length - offset >= LEN_BYTES) {
          const frameBytes = this.#checkLength(chunk.readUInt32BE(offset));
          if (chunk.length - offset >= frameBytes) {
            onFrame(chunk.subarray(offset, offset + frameBytes));
            offset += frameBytes;
            continue;
          }
          this.#frameBytes = frameBytes;
        }
        this.#parts.push(chunk.subarray(offset));
        this.#partsBytes = chunk.length - offset;
        return;
      }
      if (this.#frameBytes < 0) {
        // The length prefix itself was split: take just enough bytes to complete it.
        const take = Math.min(LEN_BYTES - this.#partsBytes, chunk.length - offset);
        this.#parts.push(chunk.subarray(offset, offset + take));
        this.#partsBytes += take;
        offset += take;
        if (this.#partsBytes < LEN_BYTES) return;
        const head = Buffer.concat(this.#parts, LEN_BYTES);
        this.#parts = [head];
        this.#frameBytes = this.#checkLength(head.readUInt32BE(0));
        continue;
      }
      const take = Math.min(this.#frameBytes - this.#partsBytes, chunk.length - offset);
      this.#parts.push(chunk.subarray(offset, offset + take));
      this.#partsBytes += take;
      offset += take;
      if (this.#partsBytes < this.#frameBytes) return;
      const frame = Buffer.concat(this.#parts, this.#frameBytes);
      this.#parts = [];
      this.#partsBytes = 0;
      this.#frameBytes = -1;
      onFrame(frame);
    }
  }

  #checkLength(len: number): number {
    const problem = checkFrameLength(this.#suite, len, this.#maxPayloadBytes);
    if (problem === 'large') {
      throw new ProtocolError(
        'GAW_ERR_FRAME_TOO_LARGE',
        `frame length ${len} exceeds the cap of ${this.#maxPayloadBytes} payload bytes`,
      );
    }
    if (problem !== null) {
      throw new ProtocolError(
        'GAW_ERR_BAD_FRAME',
        `frame length ${len} is ${problem === 'small' ? 'below the suite minimum' : 'misaligned for cbc'}`,
      );
    }
    return LEN_BYTES + len;
  }
}

/**
 * An entry head as queued: the head's bytes, or a number for the most common one, a kind-1 entry
 * whose context is only a budget of that many milliseconds (9 bytes, written straight into the
 * frame: no Buffer per call).
 */
export type EntryHead = Buffer | number;

/** Bytes of a budget-only head (kind, ctx_len, field type, field length, u32). */
export const BUDGET_HEAD_BYTES = 9;

export function entryHeadBytes(head: EntryHead): number {
  return typeof head === 'number' ? BUDGET_HEAD_BYTES : head.length;
}

/**
 * Packs messages into one DATA payload: each as u32 length | bytes. With `heads` (the call-context
 * extension), message i goes as u32 length | heads[i] | bytes. A message given as text is written
 * as UTF-8 straight into the payload (no Buffer of its own); `totalBytes`, when given, must count
 * it by Buffer.byteLength.
 */
export function packMessages(
  messages: readonly (Buffer | string)[],
  totalBytes?: number,
  heads?: readonly EntryHead[],
): Buffer {
  let size = 0;
  if (totalBytes === undefined) {
    for (const m of messages) size += LEN_BYTES + messageBytes(m);
    if (heads !== undefined) for (const h of heads) size += entryHeadBytes(h);
  } else size = totalBytes;
  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Buffer | string;
    const head = heads?.[i];
    let headBytes = 0;
    if (typeof head === 'number') {
      headBytes = BUDGET_HEAD_BYTES;
      out[offset + 4] = 1; // kind 1, CALL
      out[offset + 5] = 0; // ctx_len 6
      out[offset + 6] = 6;
      out[offset + 7] = 1; // budget_ms, 4 bytes
      out[offset + 8] = 4;
      writeU32(out, head, offset + 9);
    } else if (head !== undefined) {
      headBytes = head.length;
      if (headBytes === 1) out[offset + LEN_BYTES] = head[0] as number;
      else if (headBytes > 0) head.copy(out, offset + LEN_BYTES);
    }
    const at = offset + LEN_BYTES + headBytes;
    const length = typeof m === 'string' ? out.write(m, at) : m.copy(out, at);
    writeU32(out, headBytes + length, offset);
    offset = at + length;
  }
  return out;
}

/** A message's length in bytes (text as UTF-8). */
export function messageBytes(message: Buffer | string): number {
  return typeof message === 'string' ? Buffer.byteLength(message, 'utf8') : message.length;
}

/** Big-endian u32, without writeUInt32BE's range checks (the callers' values are in range). */
function writeU32(out: Buffer, value: number, at: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

/** Checks a whole DATA payload's message framing, before any message is delivered; throws ProtocolError. */
function checkMessages(payload: Buffer): void {
  if (payload.length === 0) throw new ProtocolError('GAW_ERR_BAD_FRAME', 'empty DATA payload');
  let offset = 0;
  let count = 0;
  while (offset < payload.length) {
    if (++count > MAX_MESSAGES_PER_FRAME)
      throw new ProtocolError('GAW_ERR_BAD_FRAME', `more than ${MAX_MESSAGES_PER_FRAME} messages in one frame`);
    if (payload.length - offset < LEN_BYTES)
      throw new ProtocolError('GAW_ERR_BAD_FRAME', 'a message length runs past the payload');
    const size = payload.readUInt32BE(offset);
    offset += LEN_BYTES;
    if (size === 0) throw new ProtocolError('GAW_ERR_BAD_FRAME', 'a message of length 0');
    if (size > payload.length - offset) throw new ProtocolError('GAW_ERR_BAD_FRAME', 'a message runs past the payload');
    offset += size;
  }
}

/**
 * Splits a DATA payload into its messages (views, no copies). The whole payload is checked first,
 * so a frame with bad message framing delivers nothing; throws ProtocolError.
 */
export function unpackMessages(payload: Buffer, onMessage: (message: Buffer) => void): void {
  checkMessages(payload);
  let offset = 0;
  while (offset < payload.length) {
    const size = payload.readUInt32BE(offset);
    offset += LEN_BYTES;
    onMessage(payload.subarray(offset, offset + size));
    offset += size;
  }
}

/**
 * unpackMessages for the call-context extension: each entry as its place in the payload
 * (`start`, `end`), so the reader makes one view of the message past the entry's head, not two.
 */
export function unpackEntries(payload: Buffer, onEntry: (payload: Buffer, start: number, end: number) => void): void {
  checkMessages(payload);
  let offset = 0;
  while (offset < payload.length) {
    const size = payload.readUInt32BE(offset);
    offset += LEN_BYTES;
    onEntry(payload, offset, offset + size);
    offset += size;
  }
}
