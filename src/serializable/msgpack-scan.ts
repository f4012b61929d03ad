// Checks received msgpack bytes before msgpackr sees them, without recursion: exactly one value,
// nothing truncated or trailing, nesting within maxDepth, string map keys, no extension types and
// no 0xc1. Also the fallback decoder used when a map has a `__proto__` key (msgpackr renames
// that key). Only the msgpack codec uses this file; it knows nothing of tags.
import { SerializationError } from '../errors.js';

// What each type byte starts: kindOf[t] with argOf[t] (a byte count).
const scalar = 0; // argOf = bytes of payload after the type byte
const sized = 1; // str 8/16/32 or bin 8/16/32; argOf = width of the length field
const array = 2; // array 16/32; argOf = width of the count field
const map = 3; // map 16/32; argOf = width of the count field
const refused = 4; // 0xc1 and the extension types
const fixmap = 5;
const fixarray = 6;
const fixstr = 7;
const kindOf = new Uint8Array(256);
const argOf = new Uint8Array(256);
for (let t = 0x80; t < 0xe0; t++) {
  if (t <= 0x8f) kindOf[t] = fixmap;
  else if (t <= 0x9f) kindOf[t] = fixarray;
  else if (t <= 0xbf) kindOf[t] = fixstr;
  else kindOf[t] = refused;
}
for (const [types, kind, arg] of [
  [[0xc0, 0xc2, 0xc3], scalar, 0],
  [[0xcc, 0xd0], scalar, 1],
  [[0xcd, 0xd1], scalar, 2],
  [[0xca, 0xce, 0xd2], scalar, 4],
  [[0xcb, 0xcf, 0xd3], scalar, 8],
  [[0xc4, 0xd9], sized, 1],
  [[0xc5, 0xda], sized, 2],
  [[0xc6, 0xdb], sized, 4],
  [[0xdc], array, 2],
  [[0xdd], array, 4],
  [[0xde], map, 2],
  [[0xdf], map, 4],
] as const) {
  for (const t of types) (kindOf[t] = kind), (argOf[t] = arg);
}

/** Remaining items per open container (2 per map entry) and whether it is a map. */
const remaining: number[] = [];
const isMapLevel: boolean[] = [];

function fail(message: string): SerializationError {
  return new SerializationError('GAW_ERR_DECODE', `received bytes are not valid msgpack: ${message}`);
}

function truncated(): SerializationError {
  return fail('the data ends in the middle of a value');
}

/** A big-endian unsigned integer of 1, 2 or 4 bytes (a DataView per call would cost more than the scan). */
function readUint(b: Uint8Array, p: number, width: number): number {
  if (width === 1) return b[p]!;
  if (width === 2) return (b[p]! << 8) | b[p + 1]!;
  return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

function isProtoKey(b: Uint8Array, p: number): boolean {
  // "__proto__"
  return (
    b[p] === 0x5f &&
    b[p + 1] === 0x5f &&
    b[p + 2] === 0x70 &&
    b[p + 3] === 0x72 &&
    b[p + 4] === 0x6f &&
    b[p + 5] === 0x74 &&
    b[p + 6] === 0x6f &&
    b[p + 7] === 0x5f &&
    b[p + 8] === 0x5f
  );
}

/**
 * Validates `b` as one msgpack value in gaw's subset. Returns true when some map has a `__proto__`
 * key (decode it with decodeMsgpackSafe). Throws GAW_ERR_DECODE or GAW_ERR_DEPTH_EXCEEDED.
 */
export function scanMsgpack(b: Uint8Array, maxDepth: number): boolean {
  const rem = remaining;
  const isMap = isMapLevel;
  const n = b.length;
  let p = 0;
  let sp = 1; // level 0 is a virtual container holding the one top-level value
  rem[0] = 1;
  isMap[0] = false;
  let hasProtoKey = false;
  while (sp > 0) {
    const top = sp - 1;
    const left = rem[top]!;
    if (left === 0) {
      sp--;
      continue;
    }
    rem[top] = left - 1;
    if (p >= n) throw truncated();
    const t = b[p++]!;
    const kind = kindOf[t]!;
    if (isMap[top] === true && (left & 1) === 0) {
      // A map key: must be a string.
      let len: number;
      if (kind === fixstr) len = t & 0x1f;
      else if (kind === sized && t >= 0xd9) {
        const width = argOf[t]!;
        if (p + width > n) throw truncated();
        len = readUint(b, p, width);
        p += width;
      } else throw fail(`a map key is not a string (type byte 0x${t.toString(16)}); gaw maps have string keys`);
      if (len > n - p) throw truncated();
      if (len === 9 && isProtoKey(b, p)) hasProtoKey = true;
      p += len;
      continue;
    }
    if (kind === scalar || kind === fixstr) {
      p += kind === scalar ? argOf[t]! : t & 0x1f;
      if (p > n) throw truncated();
      continue;
    }
    let count: number;
    let isMapHere = false;
    if (kind === fixmap) (count = (t & 0x0f) * 2), (isMapHere = true);
    else if (kind === fixarray) count = t & 0x0f;
    else if (kind === refused) {
      if (t === 0xc1) throw fail('it uses the reserved type byte 0xc1');
      throw fail(`it uses a msgpack extension type (type byte 0x${t.toString(16)}), which gaw does not accept`);
    } else {
      const width = argOf[t]!;
      if (p + width > n) throw truncated();
      const len = readUint(b, p, width);
      p += width;
      if (kind === sized) {
        if (len > n - p) throw truncated();
        p += len;
        continue;
      }
      isMapHere = kind === map;
      count = isMapHere ? len * 2 : len;
    }
    if (sp > maxDepth) {
      throw new SerializationError('GAW_ERR_DEPTH_EXCEEDED', `received data nests deeper than maxDepth (${maxDepth})`);
    }
    if (count > n - p) throw truncated(); // every item takes at least one byte
    rem[sp] = count;
    isMap[sp] = isMapHere;
    sp++;
  }
  if (p !== n) throw fail(`${n - p} bytes follow the value`);
  return hasProtoKey;
}

/**
 * Decodes bytes that scanMsgpack accepted, building objects so that a `__proto__` key is an own data
 * property. Recursion is bounded by the maxDepth the scan enforced. Values match msgpackr's.
 */
export function decodeMsgpackSafe(buf: Buffer): unknown {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = 0;
  const text = (len: number): string => buf.toString('utf8', p, (p += len));
  const read = (): unknown => {
    const t = buf[p++]!;
    if (t <= 0x7f) return t;
    if (t >= 0xe0) return t - 0x100;
    if (t <= 0x8f) return readMap(t & 0x0f);
    if (t <= 0x9f) return readArray(t & 0x0f);
    if (t <= 0xbf) return text(t & 0x1f);
    let v: number;
    switch (t) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return bin(buf[p++]!);
      case 0xc5:
        return bin(u16());
      case 0xc6:
        return bin(u32());
      case 0xca:
        v = view.getFloat32(p);
        p += 4;
        return v;
      case 0xcb:
        v = view.getFloat64(p);
        p += 8;
        return v;
      case 0xcc:
        return buf[p++];
      case 0xcd:
        return u16();
      case 0xce:
        return u32();
      case 0xcf:
        v = view.getUint32(p) * 0x100000000;
        v += view.getUint32(p + 4);
        p += 8;
        return v;
      case 0xd0:
        return view.getInt8(p++);
      case 0xd1:
        v = view.getInt16(p);
        p += 2;
        return v;
      case 0xd2:
        v = view.getInt32(p);
        p += 4;
        return v;
      case 0xd3:
        v = view.getInt32(p) * 0x100000000;
        v += view.getUint32(p + 4);
        p += 8;
        return v;
      case 0xd9:
        return text(buf[p++]!);
      case 0xda:
        return text(u16());
      case 0xdb:
        return text(u32());
      case 0xdc:
        return readArray(u16());
      case 0xdd:
        return readArray(u32());
      case 0xde:
        return readMap(u16());
      case 0xdf:
        return readMap(u32());
    }
    throw fail(`unexpected type byte 0x${t.toString(16)}`); // unreachable after scanMsgpack
  };
  const u16 = (): number => ((p += 2), view.getUint16(p - 2));
  const u32 = (): number => ((p += 4), view.getUint32(p - 4));
  const bin = (len: number): Buffer => Buffer.from(buf.subarray(p, (p += len)));
  const readArray = (len: number): unknown[] => {
    const out: unknown[] = [];
    for (let i = 0; i < len; i++) out.push(read());
    return out;
  };
  const readMap = (len: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < len; i++) {
      const key = read() as string;
      const value = read();
      if (key === '__proto__')
        Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
      else out[key] = value;
    }
    return out;
  };
  return read();
}
