// The event envelope: the signed bytes one event travels as, in a pub/sub message or a stream
// entry. Pure: no Redis, no clock reads (the caller passes `nowMs`), no logging. Sealing signs with
// HMAC-SHA256 under a key derived from the shared secret (HKDF, label "gaw events v1"), so write
// access to Redis alone cannot forge an event. Checks run cheapest first: size, layout, MAC, then
// the codec, so a forged or oversized envelope is never decoded.
//
//   0        1        2        3 ........ 10   11 ....... 26   27     28..   next   ..      ..    end-32  end
//   | ver=1  | key id | codec  | ts (u64 BE ms) | id (16 B)     | nlen | name | slen | src | data | HMAC-SHA256 |
//
// `codec` is 0 json / 1 msgpack (GAWP/1's codec bytes); `data` is the codec's encoding of the value.
import { hkdfSync, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../errors.js';
import { KeyRing } from '../postoffice/index.js';
import type { Codec, CodecName } from '../serializable/index.js';
import { EventMac, fillRandom } from './mac.js';

const version = 1;
const headBytes = 28;
const macBytes = 32;
const idBytes = 16;
const hkdfLabel = 'gaw events v1';
const codecBytes: Record<CodecName, number> = { json: 0, msgpack: 1 };
const codecNames: readonly CodecName[] = ['json', 'msgpack'];

/** Why an envelope was refused; logged, never thrown at a consumer. */
export type RefusalReason =
  | 'oversized'
  | 'malformed'
  | 'unknown key'
  | 'forged'
  | 'wrong name'
  | 'stale'
  | 'undecodable';

/** The signing keys of one secret (or ring): sign with one key id, verify with any. */
export class EventKeys {
  readonly #keys = new Map<number, EventMac>();
  readonly signingKeyId: number;

  /** `secret`: base64 (key id 0) or `{ [keyId]: secret }`; signs with `keyId`, default the highest id. */
  constructor(secret: string | Readonly<Record<number, string>>, keyId?: number) {
    const ring = new KeyRing(secret);
    for (const id of ring.ids) {
      const ikm = ring.get(id)!;
      this.#keys.set(id, new EventMac(Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), hkdfLabel, 32))));
    }
    this.signingKeyId = keyId ?? Math.max(...ring.ids);
    if (!this.#keys.has(this.signingKeyId)) {
      throw new UsageError('GAW_ERR_INVALID_OPTION', `events keyId ${this.signingKeyId} is not a key id of the secret`);
    }
  }

  get(keyId: number): EventMac | undefined {
    return this.#keys.get(keyId);
  }

  toString(): string {
    return `EventKeys(${this.#keys.size})`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** What a consumer gets besides the value. */
export interface EventMeta {
  /** 22 base64url characters, random per event: the key to deduplicate on (at-least-once). */
  readonly id: string;
  readonly name: string;
  /** The sender's `source` (e.g. `orders@host:1234`). Authenticated with the rest. */
  readonly src: string;
  /** The sender's clock when it sealed the event, epoch ms. */
  readonly ts: number;
}

export interface SealInput {
  name: string;
  src: string;
  data: unknown;
  nowMs: number;
}

/** Seals one event; throws GAW_ERR_EVENT_TOO_LARGE past `maxBytes`, GAW_ERR_UNENCODABLE for a bad value. */
export function seal(input: SealInput, keys: EventKeys, codec: Codec, maxBytes: number): Buffer {
  const name = Buffer.from(input.name, 'utf8');
  const src = Buffer.from(input.src, 'utf8');
  const data = codec.encode(input.data);
  const total = headBytes + name.length + 1 + src.length + data.length + macBytes;
  if (total > maxBytes) {
    throw new UsageError(
      'GAW_ERR_EVENT_TOO_LARGE',
      `the event ${JSON.stringify(input.name)} is ${total} bytes sealed, over maxEventBytes (${maxBytes})`,
    );
  }
  const out = Buffer.allocUnsafe(total);
  out[0] = version;
  out[1] = keys.signingKeyId;
  out[2] = codecBytes[codec.name];
  out.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(input.nowMs))), 3);
  fillRandom(out, 11, idBytes);
  out[27] = name.length;
  let at = headBytes;
  at += name.copy(out, at);
  out[at++] = src.length;
  at += src.copy(out, at);
  at += data.copy(out, at);
  keys.get(keys.signingKeyId)!.digest(out.subarray(0, at)).copy(out, at);
  return out;
}

export interface OpenLimits {
  maxBytes: number;
  /** The name the envelope must carry (its channel or stream), or undefined to accept any (patterns). */
  expectedName: string | undefined;
  /** Refuse envelopes whose ts is further than this from `refMs` (either way). */
  windowMs: number;
  /** The reference time: the receiver's clock (broadcast) or the stream entry's Redis time (durable). */
  refMs: number;
}

export type Opened =
  | { ok: true; meta: EventMeta; value: unknown }
  | { ok: false; reason: RefusalReason; detail: string };

function refuse(reason: RefusalReason, detail: string): Opened {
  return { ok: false, reason, detail };
}

/** Checks and opens an envelope. Never throws: a refusal says why, for the log. */
export function open(
  bytes: Buffer,
  keys: EventKeys,
  codecs: Readonly<Record<CodecName, Codec>>,
  limits: OpenLimits,
): Opened {
  if (bytes.length > limits.maxBytes) return refuse('oversized', `${bytes.length} bytes, over ${limits.maxBytes}`);
  if (bytes.length < headBytes + 1 + macBytes || bytes[0] !== version)
    return refuse('malformed', 'not a version 1 envelope');
  const nameEnd = headBytes + bytes[27]!;
  if (nameEnd + 1 + macBytes > bytes.length) return refuse('malformed', 'the name runs past the end');
  const srcEnd = nameEnd + 1 + bytes[nameEnd]!;
  const macAt = bytes.length - macBytes;
  if (srcEnd > macAt) return refuse('malformed', 'the source runs past the end');
  const key = keys.get(bytes[1]!);
  if (key === undefined) return refuse('unknown key', `key id ${bytes[1]} is not in the ring`);
  const mac = key.digest(bytes.subarray(0, macAt));
  if (!timingSafeEqual(mac, bytes.subarray(macAt))) return refuse('forged', 'the signature does not match');
  // Signed from here on: the sender had the secret, so what follows is only checked, not suspected.
  const codecName = codecNames[bytes[2]!];
  if (codecName === undefined) return refuse('malformed', `unknown codec byte ${bytes[2]}`);
  const name = bytes.toString('utf8', headBytes, nameEnd);
  if (limits.expectedName !== undefined && name !== limits.expectedName)
    return refuse(
      'wrong name',
      `signed for ${JSON.stringify(name)}, delivered on ${JSON.stringify(limits.expectedName)}`,
    );
  const ts = Number(bytes.readBigUInt64BE(3));
  if (Math.abs(ts - limits.refMs) > limits.windowMs)
    return refuse('stale', `sealed ${ts - limits.refMs} ms from the reference time (window ${limits.windowMs} ms)`);
  const codec = codecs[codecName];
  let value: unknown;
  try {
    value = codec.revive(codec.decode(bytes.subarray(srcEnd, macAt)), 'data');
  } catch (err) {
    return refuse('undecodable', err instanceof Error ? err.message : String(err));
  }
  const meta: EventMeta = {
    id: bytes.toString('base64url', 11, 11 + idBytes),
    name,
    src: bytes.toString('utf8', nameEnd + 1, srcEnd),
    ts,
  };
  return { ok: true, meta, value };
}
