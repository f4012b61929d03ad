// The sending half of a Connection: messages queued in one tick are coalesced into DATA frames
// (split every 64 KiB or 4,096 messages; with the call-context extension each with its entry head),
// sealed and written (large frames as one writev of their pieces), and the socket's unsent output
// is checked against highWaterBytes and maxPendingWriteBytes. Knows nothing of the connection's
// state (connection.ts refuses sends once it is closing) and reads nothing.
import type { Socket } from 'node:net';
import { ConnectionError, GawError, ProtocolError } from '../errors.js';
import { MESSAGE_HEAD } from './call-context.js';
import { LEN_BYTES, MAX_MESSAGES_PER_FRAME, entryHeadBytes, messageBytes, packMessages } from './frame.js';
import type { EntryHead } from './frame.js';
import type { PostofficeLimits } from './options.js';
import type { Sealer } from './seal.js';
import { frameTypes } from './suite.js';

/**
 * Messages queued in one tick share a frame up to this many bytes; past it the frame leaves at
 * once and the next one starts. A 64-message burst of 16 KiB messages then streams as 16 frames
 * the peer starts on while the rest is still being encoded, instead of one 1 MiB frame that
 * neither side can touch until it is whole (measured: +50-80 % calls/s at 16 KiB, 64 in flight).
 */
const COALESCE_MAX_BYTES = 64 * 1024;

/** Frames with a payload this large are written as pieces (writev) rather than joined first. */
const WRITEV_MIN_BYTES = 16 * 1024;

export interface OutboxEvents {
  /** Sealing failed, or the unsent output passed maxPendingWriteBytes: the connection must go. */
  fail(err: GawError): void;
  /** The unsent output passed highWaterBytes: stop reading the peer until the socket drains. */
  highWater(): void;
}

export class Outbox {
  readonly #socket: Socket;
  readonly #sealer: Sealer;
  readonly #limits: PostofficeLimits;
  readonly #events: OutboxEvents;
  readonly #coalesceBytes: number;
  #queue: (Buffer | string)[] = [];
  /** With the call-context extension: the entry head (kind byte, context) of each queued message. */
  #heads: EntryHead[] | undefined;
  #queueBytes = 0;
  #isFlushScheduled = false;
  readonly #flush = () => this.flush();

  constructor(socket: Socket, sealer: Sealer, limits: PostofficeLimits, hasHeads: boolean, events: OutboxEvents) {
    this.#socket = socket;
    if (hasHeads) this.#heads = [];
    this.#sealer = sealer;
    this.#limits = limits;
    this.#events = events;
    this.#coalesceBytes = Math.min(limits.maxPayloadBytes, COALESCE_MAX_BYTES);
  }

  /** Bytes of queued messages (with their length prefixes) not yet in a frame. */
  get queuedBytes(): number {
    return this.#queueBytes;
  }

  /** True when each message goes with an entry head (the call-context extension). */
  get hasHeads(): boolean {
    return this.#heads !== undefined;
  }

  /** The largest message push accepts (with the call-context extension, less its kind byte). */
  get maxMessageBytes(): number {
    return this.#limits.maxPayloadBytes - LEN_BYTES - (this.#heads === undefined ? 0 : 1);
  }

  /**
   * Queues a message (bytes, or text sent as UTF-8) for the frame that leaves this tick, with its
   * entry head when hasHeads (a plain message's by default). Throws ProtocolError for an empty
   * message or one past the cap.
   */
  push(message: Buffer | string, head?: EntryHead): void {
    const length = messageBytes(message);
    if (length === 0) throw new ProtocolError('GAW_ERR_BAD_FRAME', 'a message cannot be empty');
    const entryHead = this.#heads === undefined ? undefined : (head ?? MESSAGE_HEAD);
    const size = LEN_BYTES + length + (entryHead === undefined ? 0 : entryHeadBytes(entryHead));
    if (size > this.#limits.maxPayloadBytes) {
      throw new ProtocolError(
        'GAW_ERR_FRAME_TOO_LARGE',
        `a message of ${length} bytes exceeds the ${this.#limits.maxPayloadBytes}-byte frame cap`,
      );
    }
    if (this.#queueBytes + size > this.#coalesceBytes || this.#queue.length >= MAX_MESSAGES_PER_FRAME) this.flush();
    this.#queue.push(message);
    if (entryHead !== undefined) this.#heads!.push(entryHead);
    this.#queueBytes += size;
    if (!this.#isFlushScheduled) {
      this.#isFlushScheduled = true;
      process.nextTick(this.#flush);
    }
  }

  /** Writes what is queued as one DATA frame now. */
  flush(): void {
    this.#isFlushScheduled = false;
    if (this.#queue.length === 0) return;
    const payload = packMessages(this.#queue, this.#queueBytes, this.#heads);
    // Emptied, not replaced: the arrays keep their room for the next tick's messages.
    this.#queue.length = 0;
    if (this.#heads !== undefined) this.#heads.length = 0;
    this.#queueBytes = 0;
    this.writeFrame(frameTypes.data, payload);
  }

  /** Drops what is queued (the connection closed, or the peer can no longer read it). */
  clear(): void {
    this.#queue = [];
    if (this.#heads !== undefined) this.#heads = [];
    this.#queueBytes = 0;
  }

  writeFrame(type: number, payload: Buffer): void {
    let parts: Buffer[];
    try {
      parts = this.#sealer.sealParts(type, payload);
    } catch (err) {
      this.#events.fail(
        err instanceof GawError
          ? err
          : new ProtocolError('GAW_ERR_BAD_FRAME', 'sealing a frame failed', { cause: err }),
      );
      return;
    }
    const socket = this.#socket;
    if (payload.length < WRITEV_MIN_BYTES) {
      socket.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    } else {
      // A large frame leaves as one writev of its pieces: the payload is not copied again.
      socket.cork();
      for (const part of parts) socket.write(part);
      socket.uncork();
    }
    const pending = socket.writableLength;
    if (pending > this.#limits.maxPendingWriteBytes) {
      this.#events.fail(
        new ConnectionError(
          'GAW_ERR_BACKPRESSURE',
          `the peer stopped reading and ${pending} bytes are waiting to be sent`,
        ),
      );
    } else if (pending > this.#limits.highWaterBytes) {
      this.#events.highWater();
    }
  }
}
