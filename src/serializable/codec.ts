// The two payload codecs of GAWP/1 (codec byte 0 json, 1 msgpack): whole messages <-> bytes, with
// the registry's tagging on the way out and depth-checked parsing on the way in. Tags are revived in
// a separate step (revive) so a server can tell a parse error from a bad value. No sockets here.
import { Packr, Unpackr } from 'msgpackr';
import { SerializationError, UsageError } from '../errors.js';
import { asBuffer } from './bytes-node.js';
import { checkDepth, jsonScanThresholdBytes, scanJsonDepth } from './json-depth.js';
import { decodeMsgpackSafe, scanMsgpack } from './msgpack-scan.js';
import { sanitize } from './path.js';
import { checkMaxDepth, defaultRegistry, type Registry } from './registry.js';

export type CodecName = 'json' | 'msgpack';

export interface Codec {
  readonly name: CodecName;
  /** Encodes a whole message (e.g. a JSON-RPC object): registry.encode, then serialize. */
  encode(value: unknown): Buffer;
  /**
   * Bytes -> plain wire data: parsed and depth-checked, tags not revived. Throws SerializationError
   * GAW_ERR_DECODE (not valid JSON / msgpack) or GAW_ERR_DEPTH_EXCEEDED; never a stack overflow.
   */
  decode(bytes: Uint8Array): unknown;
  /** Plain wire data -> values (registry.decode); `path` names the data in errors, e.g. `params`. */
  revive(data: unknown, path?: string): unknown;
  /**
   * Text codecs only (json): the JSON text of `value` as the member `name` of a message object,
   * tagged, depth-counted and named in errors exactly as encode() of the whole message would, for a
   * writer that puts the message's fixed members around it as text. Undefined when JSON has no
   * text for the value (undefined itself).
   */
  encodeMemberText?(value: unknown, name: string): string | undefined;
  /**
   * Text codecs only: decode() with a shortcut for messages in a known form. `short` gets the text
   * (and the bytes it was decoded from) and returns what JSON.parse would make of it, or undefined to have it parsed whole (as it is
   * when `short` throws). The depth check and the errors are decode()'s.
   */
  decodeShort?(bytes: Uint8Array, short: (text: string, bytes: Uint8Array) => unknown): unknown;
}

export interface CodecOptions {
  /** Where tags are looked up; default the default registry. */
  registry?: Registry;
  /** Nesting limit for received data; default the registry's maxDepth. */
  maxDepth?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function notValid(kind: string, err: unknown): SerializationError {
  // Parser messages quote the input, which is the peer's: escape and shorten it.
  const reason = sanitize(err instanceof Error ? err.message : String(err), 200);
  return new SerializationError('GAW_ERR_DECODE', `received bytes are not valid ${kind}: ${reason}`, { cause: err });
}

function checkBytes(bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array))
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'codec.decode() needs a Uint8Array or Buffer');
}

function utf8Bytes(text: string): Buffer {
  if (text.length < 512) return Buffer.from(text, 'utf8');
  // Measured: sizing first and writing once is about twice as fast as Buffer.from for longer text.
  const bytes = Buffer.allocUnsafe(Buffer.byteLength(text, 'utf8'));
  bytes.write(text, 0, 'utf8');
  return bytes;
}

class JsonCodec implements Codec {
  readonly name = 'json';
  readonly #registry: Registry;
  readonly #maxDepth: number;

  constructor(registry: Registry, maxDepth: number) {
    this.#registry = registry;
    this.#maxDepth = maxDepth;
  }

  encode(value: unknown): Buffer {
    return utf8Bytes(JSON.stringify(this.#registry.encode(value)));
  }

  encodeMemberText(value: unknown, name: string): string | undefined {
    return JSON.stringify(this.#registry.encode(value, { path: name, depth: 1 }));
  }

  decode(bytes: Uint8Array): unknown {
    return this.decodeShort(bytes, undefined);
  }

  decodeShort(bytes: Uint8Array, short: ((text: string, bytes: Uint8Array) => unknown) | undefined): unknown {
    checkBytes(bytes);
    const isLarge = bytes.length >= jsonScanThresholdBytes;
    if (isLarge) scanJsonDepth(bytes, this.#maxDepth);
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch (err) {
      throw notValid('UTF-8', err);
    }
    let data: unknown;
    if (short !== undefined) {
      try {
        data = short(text, bytes);
      } catch {
        data = undefined; // not in the short form after all: parsed whole below, errors and all
      }
    }
    if (data === undefined) {
      try {
        data = JSON.parse(text);
      } catch (err) {
        throw notValid('JSON', err);
      }
    }
    // Each level takes two bytes at least, so short input cannot be too deep.
    if (!isLarge && bytes.length >= 2 * (this.#maxDepth + 1)) checkDepth(data, this.#maxDepth);
    return data;
  }

  revive(data: unknown, path?: string): unknown {
    return this.#registry.decode(data, { path });
  }
}

/** msgpackr set up for plain data only: no records, no structured clone, no extensions. */
const msgpackOptions = {
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  mapsAsObjects: true,
  bundleStrings: false,
  copyBuffers: true,
  int64AsType: 'number',
  useBigIntExtension: false,
  encodeUndefinedAsNil: false,
  variableMapSize: false, // map16 headers: faster to write; both forms decode the same
} as const;

/** Messages up to this size are decoded from one reused buffer; see MsgpackCodec#decode. */
const scratchBytes = 64 * 1024;
const scratch: Buffer & { dataView?: DataView } = Buffer.allocUnsafeSlow(scratchBytes);
scratch.dataView = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);

class MsgpackCodec implements Codec {
  readonly name = 'msgpack';
  readonly #registry: Registry;
  readonly #maxDepth: number;
  readonly #packr = new Packr(msgpackOptions);
  readonly #unpackr = new Unpackr(msgpackOptions);

  constructor(registry: Registry, maxDepth: number) {
    this.#registry = registry;
    this.#maxDepth = maxDepth;
  }

  encode(value: unknown): Buffer {
    return this.#packr.pack(this.#registry.encode(value, { binaryBytes: true }));
  }

  decode(bytes: Uint8Array): unknown {
    checkBytes(bytes);
    // A Buffer view, so msgpackr's copies of bin data are Buffers too.
    const buf = asBuffer(bytes);
    const hasProtoKey = scanMsgpack(buf, this.#maxDepth);
    if (hasProtoKey) return decodeMsgpackSafe(buf); // msgpackr would rename the key to __proto_
    try {
      if (buf.length > scratchBytes) return this.#unpackr.unpack(buf);
      // msgpackr builds (and caches on the buffer) a DataView per new source, which costs more than
      // copying a small message into one long-lived buffer. Nothing decoded refers to the scratch
      // buffer: strings are new and bin data is copied (copyBuffers).
      scratch.set(buf);
      return this.#unpackr.unpack(scratch, buf.length);
    } catch (err) {
      throw notValid('msgpack', err); // not expected after the scan; kept so nothing else escapes
    }
  }

  revive(data: unknown, path?: string): unknown {
    return this.#registry.decode(data, { path });
  }
}

/**
 * JSON that passes wire data through: nothing is tagged on the way out (class tags already in the
 * value, `{"_t", "_v"}`, go as given) and nothing is revived on the way in. Parsing keeps the depth
 * check. For bridges and tools that forward wire data rather than values.
 */
class RawJsonCodec extends JsonCodec {
  override encode(value: unknown): Buffer {
    return utf8Bytes(JSON.stringify(value));
  }

  override encodeMemberText(value: unknown): string | undefined {
    return JSON.stringify(value);
  }

  override revive(data: unknown): unknown {
    return data;
  }
}

export function createRawJsonCodec(options: { maxDepth?: number } = {}): Codec {
  return new RawJsonCodec(
    defaultRegistry,
    options.maxDepth === undefined ? defaultRegistry.maxDepth : checkMaxDepth(options.maxDepth),
  );
}

/** A codec by name, tagging with `options.registry` (default: the default registry). */
export function createCodec(name: CodecName, options: CodecOptions = {}): Codec {
  const registry = options.registry ?? defaultRegistry;
  const maxDepth = options.maxDepth === undefined ? registry.maxDepth : checkMaxDepth(options.maxDepth);
  if (name === 'json') return new JsonCodec(registry, maxDepth);
  if (name === 'msgpack') return new MsgpackCodec(registry, maxDepth);
  throw new UsageError(
    'GAW_ERR_INVALID_OPTION',
    `unknown codec ${JSON.stringify(String(name)).slice(0, 40)}; use 'json' or 'msgpack'`,
  );
}
