// The two per-event costs of sealing and opening, made cheap: HMAC-SHA256 under one key with its
// padded key blocks computed once (RFC 2104 as two one-shot `crypto.hash` calls, where Node has it;
// createHmac otherwise and for large envelopes), and event ids cut from a pool of random bytes
// filled 4 KiB at a time instead of one randomBytes call per event. No I/O, no clock.
import * as crypto from 'node:crypto';

const blockBytes = 64;
/** Envelopes up to this many bytes are hashed from the scratch buffer; larger ones by createHmac. */
const scratchBytes = 4096;
const oneShot = (crypto as { hash?: (algorithm: string, data: Buffer, encoding: 'buffer') => Buffer }).hash;

export class EventMac {
  readonly #key: Buffer;
  readonly #inner = Buffer.allocUnsafe(blockBytes + scratchBytes);
  readonly #outer = Buffer.allocUnsafe(blockBytes + 32);

  /** `key`: 32 bytes (a derived key, never longer than the block). */
  constructor(key: Buffer) {
    this.#key = key;
    for (let i = 0; i < blockBytes; i++) {
      const byte = key[i] ?? 0;
      this.#inner[i] = byte ^ 0x36;
      this.#outer[i] = byte ^ 0x5c;
    }
  }

  /** HMAC-SHA256 of `message` (a fresh 32-byte Buffer). */
  digest(message: Buffer): Buffer {
    if (oneShot === undefined || message.length > scratchBytes)
      return crypto.createHmac('sha256', this.#key).update(message).digest();
    message.copy(this.#inner, blockBytes);
    oneShot('sha256', this.#inner.subarray(0, blockBytes + message.length), 'buffer').copy(this.#outer, blockBytes);
    return oneShot('sha256', this.#outer, 'buffer');
  }

  toString(): string {
    return 'EventMac';
  }

  toJSON(): string {
    return this.toString();
  }
}

const pool = Buffer.allocUnsafe(4096);
let poolAt = pool.length;

/** Copies `count` (<= 4096) fresh random bytes into `out` at `at`. */
export function fillRandom(out: Buffer, at: number, count: number): void {
  if (poolAt + count > pool.length) {
    crypto.randomFillSync(pool);
    poolAt = 0;
  }
  pool.copy(out, at, poolAt, poolAt + count);
  poolAt += count;
}
