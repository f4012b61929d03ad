// GAWP/1 spoken by hand over a RawSocket, built from the postoffice's pure functions (hellos, key
// schedule, sealer/opener), so a test can do every step right or any step wrong: odd hellos,
// low-order keys, wrong confirms, replayed, reordered, reflected or tampered frames, stalls.
// GawpClient plays the client against a real Listener; GawpServerSide plays the server against
// dial(). Neither checks anything it is not asked to: misbehaving is the point.
import { randomBytes } from 'node:crypto';
import {
  CONFIRM_BYTES,
  HELLO_BYTES,
  REJECT_BYTES,
  agree,
  clientConfirm,
  decodeHello,
  decodeReject,
  deriveKeys,
  encodeHello,
  encodeReject,
  generateEphemeral,
  isReject,
  isSameTag,
  serverConfirm,
  serverHelloBytes,
  transcriptHash,
} from '../../src/postoffice/handshake.js';
import type { EphemeralKey, Hello, Reject, SessionKeys } from '../../src/postoffice/handshake.js';
import { createOpener, createSealer } from '../../src/postoffice/seal.js';
import type { Opener, Sealer } from '../../src/postoffice/seal.js';
import { LEN_BYTES, packMessages, unpackMessages } from '../../src/postoffice/frame.js';
import { FLAG_FS, frameTypes, suites } from '../../src/postoffice/suite.js';
import { FLAG_STREAM } from '../../src/postoffice/stream-entries.js';
import type { SuiteName } from '../../src/postoffice/suite.js';
import { RawSocket } from './raw-socket.js';

/** What a hello carries; numbers may be out of range on purpose. */
export interface HelloOffer {
  suite: SuiteName | number;
  codec?: number;
  keyId?: number;
  /** Default: true unless the suite is none. Sets flag bit 0 and sends a fresh X25519 key. */
  hasForwardSecrecy?: boolean;
  /** Overrides the flags byte as sent (after hasForwardSecrecy chose the key). */
  flags?: number;
  version?: number;
  /** Sends these 32 bytes as the ephemeral key (e.g. a low-order point) instead of a real one. */
  eph?: Buffer;
}

export interface ReceivedFrame {
  type: number;
  /** The messages of a DATA frame as UTF-8 strings; empty for CLOSE. */
  messages: string[];
}

function suiteId(suite: SuiteName | number): number {
  return typeof suite === 'number' ? suite : suites[suite];
}

/** Sealing, opening and frame reading shared by both roles once keys exist. */
class GawpSession {
  readonly raw: RawSocket;
  sealer: Sealer | undefined;
  opener: Opener | undefined;
  keys: SessionKeys | undefined;
  suite = 0;

  constructor(raw: RawSocket) {
    this.raw = raw;
  }

  /** Seals one frame with the next send seq (advancing it); nothing is written. */
  seal(type: number, payload: Buffer): Buffer {
    if (!this.sealer) throw new Error('no session yet: finish the handshake first');
    return this.sealer.seal(type, payload);
  }

  /** A sealed DATA frame holding these messages; nothing is written. */
  sealMessages(...messages: (string | Buffer)[]): Buffer {
    return this.seal(frameTypes.data, packMessages(messages.map((m) => (typeof m === 'string' ? Buffer.from(m) : m))));
  }

  sealClose(): Buffer {
    return this.seal(frameTypes.close, Buffer.alloc(0));
  }

  /** Seals and writes one DATA frame holding these messages. */
  sendMessages(...messages: (string | Buffer)[]): Promise<void> {
    return this.raw.write(this.sealMessages(...messages));
  }

  /** The next whole frame as received (length prefix included), unopened. */
  async readFrame(): Promise<Buffer> {
    const head = await this.raw.read(LEN_BYTES);
    const body = await this.raw.read(head.readUInt32BE(0));
    return Buffer.concat([head, body]);
  }

  /** Reads, authenticates and opens the next frame. */
  async receive(): Promise<ReceivedFrame> {
    const frame = await this.readFrame();
    if (!this.opener) throw new Error('no session yet: finish the handshake first');
    const { type, payload } = this.opener.open(frame);
    const messages: string[] = [];
    if (type === frameTypes.data) unpackMessages(payload, (m) => messages.push(m.toString('utf8')));
    return { type, messages };
  }
}

/** The client side by hand, against a real Listener. */
export class GawpClient extends GawpSession {
  readonly psk: Buffer | undefined;
  clientHello: Buffer | undefined;
  serverHello: Buffer | undefined;
  #ephemeral: EphemeralKey | undefined;
  #offeredEph: Buffer | undefined;

  constructor(raw: RawSocket, psk: Buffer | undefined) {
    super(raw);
    this.psk = psk;
  }

  /** Opens the TCP connection only. */
  static async connect(port: number, psk?: Buffer, options: { allowHalfOpen?: boolean } = {}): Promise<GawpClient> {
    return new GawpClient(await RawSocket.connect(port, options), psk);
  }

  /** Connects and completes the handshake correctly; throws if the server rejects. */
  static async handshake(port: number, psk: Buffer | undefined, offer: HelloOffer): Promise<GawpClient> {
    const client = await GawpClient.connect(port, psk);
    await client.sendHello(offer);
    const answer = await client.readAnswer();
    if ('reject' in answer) throw new Error(`rejected: reason ${answer.reject.reason} detail ${answer.reject.detail}`);
    await client.finish();
    return client;
  }

  /** Builds (and remembers) a ClientHello; nothing is written. */
  buildHello(offer: HelloOffer): Buffer {
    const suite = suiteId(offer.suite);
    const hasForwardSecrecy = offer.hasForwardSecrecy ?? suite !== suites.none;
    this.#ephemeral = hasForwardSecrecy ? generateEphemeral() : undefined;
    this.#offeredEph = offer.eph ?? this.#ephemeral?.publicKey ?? Buffer.alloc(32);
    this.suite = suite;
    this.clientHello = encodeHello({
      version: offer.version ?? 1,
      suite,
      flags: offer.flags ?? (hasForwardSecrecy ? FLAG_FS : 0),
      codec: offer.codec ?? 0,
      keyId: offer.keyId ?? 0,
      random: randomBytes(32),
      eph: this.#offeredEph,
    });
    return this.clientHello;
  }

  sendHello(offer: HelloOffer): Promise<void> {
    return this.raw.write(this.buildHello(offer));
  }

  /** Reads a ServerReject or a whole ServerHello (its length taken from the suite offered). */
  async readAnswer(): Promise<{ reject: Reject } | { hello: Hello }> {
    const head = await this.raw.read(REJECT_BYTES);
    if (isReject(head)) return { reject: decodeReject(head) };
    this.serverHello = Buffer.concat([head, await this.raw.read(serverHelloBytes(this.suite) - REJECT_BYTES)]);
    return { hello: decodeHello(this.serverHello) };
  }

  /**
   * Derives the keys, checks the server confirm (throws if wrong) and writes the ClientFinish,
   * or `finishBytes` instead. `firstBytes`, or a DATA frame sealed from `firstMessages`, share
   * that write (GAWP/1 lets the first frame ride with the ClientFinish); `pieceBytes` writes it
   * in pieces of that many bytes instead.
   */
  async finish(
    options: {
      finishBytes?: Buffer;
      firstBytes?: Buffer;
      firstMessages?: (string | Buffer)[];
      pieceBytes?: number;
    } = {},
  ): Promise<void> {
    const clientHello = this.clientHello!;
    const serverHello = this.serverHello!;
    this.keys = undefined;
    if (this.suite === suites.none) {
      this.sealer = createSealer(suites.none, undefined, undefined);
      this.opener = createOpener(suites.none, undefined, undefined);
      const first = options.firstMessages ? this.sealMessages(...options.firstMessages) : options.firstBytes;
      if (first) await this.raw.writeInPieces(first, options.pieceBytes ?? first.length);
      return;
    }
    const hello = decodeHello(serverHello);
    const shared = this.#ephemeral ? agree(this.#ephemeral, hello.eph) : undefined;
    if (this.#ephemeral && shared === undefined) throw new Error('the server sent an unusable X25519 key');
    const th = transcriptHash(clientHello, serverHello);
    const keys = deriveKeys({
      psk: this.psk!,
      shared,
      clientRandom: clientHello.subarray(9, 41),
      serverRandom: hello.random,
      th,
    });
    if (!isSameTag(serverHello.subarray(HELLO_BYTES, HELLO_BYTES + CONFIRM_BYTES), serverConfirm(keys, th))) {
      throw new Error('the server confirm is wrong');
    }
    this.keys = keys;
    this.sealer = createSealer(this.suite, keys.c2sEnc, keys.c2sMac);
    this.opener = createOpener(this.suite, keys.s2cEnc, keys.s2cMac);
    const finish = options.finishBytes ?? clientConfirm(keys, th);
    const first = options.firstMessages ? this.sealMessages(...options.firstMessages) : options.firstBytes;
    const bytes = first ? Buffer.concat([finish, first]) : finish;
    await this.raw.writeInPieces(bytes, options.pieceBytes ?? bytes.length);
  }
}

/** How a hand-played server answers a ClientHello. */
export interface ServerAnswer {
  psk?: Buffer | undefined;
  /** Send this ServerReject instead of a hello, then end. */
  reject?: Reject;
  /** Edits the 73-byte ServerHello after it is built and before the transcript is hashed. */
  editHello?: (hello: Buffer) => void;
  /** Edits the ServerHello after the confirm is computed (the client should then refuse it). */
  tamperAfterConfirm?: (hello: Buffer) => void;
  /** Sends these 32 bytes as the server's ephemeral key instead of a real one. */
  eph?: Buffer;
  /** Answer the call-context flag when the client offers it (default: a server without the extension). */
  callContext?: boolean;
  /** With callContext: answer the stream flag too when the client offers it (default: left out). */
  streams?: boolean;
}

/** The server side by hand over an accepted RawSocket, against dial(). */
export class GawpServerSide extends GawpSession {
  clientHello: Buffer | undefined;
  serverHello: Buffer | undefined;
  #th: Buffer | undefined;

  /** Reads the 73-byte ClientHello. */
  async readHello(): Promise<Hello> {
    this.clientHello = await this.raw.read(HELLO_BYTES);
    const hello = decodeHello(this.clientHello);
    this.suite = hello.suite;
    return hello;
  }

  /** Writes a ServerReject (8 bytes) and ends the socket. */
  async reject(reject: Reject): Promise<void> {
    await this.raw.write(encodeReject(reject.reason, reject.detail));
    this.raw.end();
  }

  /** Writes the ServerHello (with its confirm unless suite none) and keys this side's session. */
  async answer(answer: ServerAnswer = {}): Promise<void> {
    if (answer.reject) return this.reject(answer.reject);
    const client = decodeHello(this.clientHello!);
    const hasForwardSecrecy = (client.flags & FLAG_FS) !== 0;
    const ephemeral = hasForwardSecrecy ? generateEphemeral() : undefined;
    const hello = encodeHello({
      ...client,
      // A server from before the call-context extension, unless asked: CTX is left out of the answer.
      flags:
        answer.callContext === true
          ? client.flags & (answer.streams === true ? 0xff : ~FLAG_STREAM)
          : client.flags & FLAG_FS,
      random: randomBytes(32),
      eph: answer.eph ?? ephemeral?.publicKey ?? Buffer.alloc(32),
    });
    answer.editHello?.(hello);
    if (client.suite === suites.none) {
      this.serverHello = hello;
      this.sealer = createSealer(suites.none, undefined, undefined);
      this.opener = createOpener(suites.none, undefined, undefined);
      await this.raw.write(hello);
      return;
    }
    const shared = ephemeral ? agree(ephemeral, client.eph) : undefined;
    const th = transcriptHash(this.clientHello!, hello);
    const keys = deriveKeys({
      psk: answer.psk!,
      shared,
      clientRandom: client.random,
      serverRandom: hello.subarray(9, 41),
      th,
    });
    this.keys = keys;
    this.#th = th;
    this.serverHello = Buffer.concat([hello, serverConfirm(keys, th)]);
    answer.tamperAfterConfirm?.(this.serverHello);
    this.sealer = createSealer(client.suite, keys.s2cEnc, keys.s2cMac);
    this.opener = createOpener(client.suite, keys.c2sEnc, keys.c2sMac);
    await this.raw.write(this.serverHello);
  }

  /** Reads the 32-byte ClientFinish and says whether it is the right one. */
  async readFinish(): Promise<boolean> {
    const finish = await this.raw.read(CONFIRM_BYTES);
    return isSameTag(finish, clientConfirm(this.keys!, this.#th!));
  }
}

/**
 * The twelve 32-byte strings of the usual X25519 blocklist (cr.yp.to/ecdh.html). Only
 * the first seven are low-order as X25519 decodes them: 0 and p (order 2), 1, p + 1 and p - 1
 * (order 4) and the two points of order 8; each gives an all-zero shared secret and must be
 * refused. The last five (the two order-8 points plus p, then 2p - 1, 2p and 2p + 1) would be
 * the same points read modulo p, but they need bit 255: RFC 7748 decoding clears that bit, which
 * turns them into ordinary keys, not low-order ones (`isLowOrder` tells the two groups apart).
 */
export const lowOrderPoints: readonly Buffer[] = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'cdeb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880',
  '4c9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7',
  'd9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  'daffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  'dbffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
].map((hex) => Buffer.from(hex, 'hex'));

/** For an entry of `lowOrderPoints` only: true when it stays low-order under RFC 7748 decoding (bit 255 clear). */
export function isLowOrder(point: Buffer): boolean {
  return (point[31]! & 0x80) === 0;
}
