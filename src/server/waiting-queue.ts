// The messages of one connection waiting for an in-flight slot, first in first out, each with a tag
// (where it came from), copied into shared 64 KiB slabs so that a waiting message costs its bytes
// and two slots, not a Buffer object of its own (~110 bytes of heap each: 100,000 tiny requests
// would cost more than their bytes). Pure: no sockets, no decoding. ServedConnection decides what
// may wait.

const SLAB_BYTES = 64 * 1024;

/** What a waiting message is charged besides its bytes and its tag's charge (slots, slab rounding). */
export const waitingOverheadBytes = 16;

export class WaitingQueue<T> {
  readonly #chargeOf: (tag: T) => number;
  /** Slabs in order, the oldest still in use at `#slabHead`; each is filled from its start. */
  #slabs: (Buffer | undefined)[] = [];
  #used: number[] = [];
  #slabHead = 0;
  /** Message lengths and tags in order, the next at `#head`; messages never span two slabs. */
  #lengths: number[] = [];
  #tags: (T | undefined)[] = [];
  #head = 0;
  /** Where the next message starts in the head slab. */
  #readOffset = 0;
  #chargedBytes = 0;

  /** `chargeOf(tag)`: what a tag costs in memory besides the message (default nothing). */
  constructor(chargeOf: (tag: T) => number = () => 0) {
    this.#chargeOf = chargeOf;
  }

  /** Messages waiting. */
  get length(): number {
    return this.#lengths.length - this.#head;
  }

  /** What every waiting message is charged: its bytes, waitingOverheadBytes and its tag's charge. */
  get chargedBytes(): number {
    return this.#chargedBytes;
  }

  /** What pushing `message` with `tag` would charge. */
  chargeFor(message: Uint8Array, tag: T): number {
    return message.length + waitingOverheadBytes + this.#chargeOf(tag);
  }

  /** Copies `message` to the end of the line (the caller's bytes may be reused once this returns). */
  push(message: Uint8Array, tag: T): void {
    const size = message.length;
    let last = this.#slabs.length - 1;
    const tail = this.#slabs[last];
    if (tail === undefined || this.#used[last]! + size > tail.length) {
      this.#slabs.push(Buffer.allocUnsafe(Math.max(SLAB_BYTES, size)));
      this.#used.push(0);
      last++;
    }
    this.#slabs[last]!.set(message, this.#used[last]!);
    this.#used[last]! += size;
    this.#lengths.push(size);
    this.#tags.push(tag);
    this.#chargedBytes += this.chargeFor(message, tag);
  }

  /**
   * The oldest message and its tag, or undefined when none waits: the message is a view that stays
   * valid (slabs are never reused).
   */
  shift(): { message: Buffer; tag: T } | undefined {
    if (this.#head === this.#lengths.length) return undefined;
    const size = this.#lengths[this.#head]!;
    const tag = this.#tags[this.#head] as T;
    this.#tags[this.#head++] = undefined;
    if (this.#readOffset + size > this.#used[this.#slabHead]!) {
      // This message did not fit behind the previous one: it starts the next slab.
      this.#slabs[this.#slabHead++] = undefined;
      this.#readOffset = 0;
    }
    const message = this.#slabs[this.#slabHead]!.subarray(this.#readOffset, this.#readOffset + size);
    this.#readOffset += size;
    this.#chargedBytes -= this.chargeFor(message, tag);
    if (this.#head === this.#lengths.length) this.clear();
    else if (this.#head >= 4_096 && this.#head * 2 >= this.#lengths.length) this.#compact();
    return { message, tag };
  }

  /** Drops every waiting message. */
  clear(): void {
    this.#slabs = [];
    this.#used = [];
    this.#slabHead = 0;
    this.#lengths = [];
    this.#tags = [];
    this.#head = 0;
    this.#readOffset = 0;
    this.#chargedBytes = 0;
  }

  /** A queue that never empties (steady overload) must not grow its bookkeeping without bound. */
  #compact(): void {
    this.#lengths = this.#lengths.slice(this.#head);
    this.#tags = this.#tags.slice(this.#head);
    this.#head = 0;
    this.#slabs = this.#slabs.slice(this.#slabHead);
    this.#used = this.#used.slice(this.#slabHead);
    this.#slabHead = 0;
  }
}
