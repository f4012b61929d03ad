// An authenticated peer with no client-side limits: it handshakes by hand (gawp-peer.ts), sends
// any message bytes in any number of frames, and reads replies as raw bytes and text, so a test
// can see exactly what the server wrote. Holds no checks of its own; the tests make them.
import { createCodec } from '../../../src/serializable/index.js';
import type { Codec } from '../../../src/serializable/index.js';
import { unpackMessages } from '../../../src/postoffice/frame.js';
import { frameTypes } from '../../../src/postoffice/suite.js';
import type { SuiteName } from '../../../src/postoffice/index.js';
import { GawpClient } from '../../helpers/gawp-peer.js';
import { within } from '../../helpers/server-fixtures.js';
import type { Victim } from './victim.js';

export interface Reply {
  /** The message bytes as received. */
  bytes: Buffer;
  /** Decoded with the negotiated codec (tags not revived). */
  value: any;
}

export class AuthedPeer {
  readonly peer: GawpClient;
  readonly codec: Codec;
  #pending: Reply[] = [];
  #hasGoaway = false;

  private constructor(peer: GawpClient, codec: Codec) {
    this.peer = peer;
    this.codec = codec;
  }

  /** Handshakes with `victim` in its suite (or `suite`), offering `codec` (default json). */
  static async open(
    victim: Victim,
    options: { codec?: 'json' | 'msgpack'; suite?: SuiteName } = {},
  ): Promise<AuthedPeer> {
    const codec = options.codec ?? 'json';
    const suite = options.suite ?? victim.suite;
    const peer = await GawpClient.handshake(victim.port, suite === 'none' ? undefined : victim.psk, {
      suite,
      codec: codec === 'json' ? 0 : 1,
    });
    const authed = new AuthedPeer(peer, createCodec(codec));
    victim.cleanups.push(() => authed.destroy());
    return authed;
  }

  get hasGoaway(): boolean {
    return this.#hasGoaway;
  }

  /** Encodes a value with the codec (strings and Buffers are sent as they are). */
  bytesOf(message: unknown): Buffer {
    if (Buffer.isBuffer(message)) return message;
    if (typeof message === 'string') return Buffer.from(message, 'utf8');
    return this.codec.encode(message);
  }

  /** Sends the messages in one DATA frame. */
  send(...messages: unknown[]): Promise<void> {
    return this.peer.sendMessages(...messages.map((m) => this.bytesOf(m)));
  }

  /** The next reply message, waiting at most `timeoutMs`. */
  async next(timeoutMs = 5_000): Promise<Reply> {
    while (this.#pending.length === 0) {
      const frame = await within(this.peer.readFrame(), timeoutMs, 'a reply frame');
      const { type, payload } = this.peer.opener!.open(frame);
      if (type === frameTypes.close) {
        this.#hasGoaway = true;
        continue;
      }
      unpackMessages(payload, (m) => {
        const bytes = Buffer.from(m);
        this.#pending.push({ bytes, value: this.codec.decode(bytes) });
      });
    }
    return this.#pending.shift()!;
  }

  /** Sends one message and returns the next reply. */
  async call(message: unknown, timeoutMs = 5_000): Promise<Reply> {
    await this.send(message);
    return this.next(timeoutMs);
  }

  destroy(): void {
    this.peer.raw.destroy();
  }
}
