// How byte strings look in memory, kept apart from the walks so they run without Node built-ins:
// the `ByteForms` a registry is built with (padded base64 in and out, and how decoded bytes are
// handed over), and `portableBytes`, plain Uint8Array and a table-driven base64 that runs in any
// JavaScript engine. Node's registries use Buffer instead (bytes-node.ts).

/** The byte conversions a registry's walks use; built once per registry. */
export interface ByteForms {
  /** Padded standard base64 (RFC 4648 section 4) to bytes, or undefined when malformed. */
  fromBase64(text: string): Uint8Array | undefined;
  toBase64(bytes: Uint8Array): string;
  /** Decoded binary data (msgpack bin) as the platform's byte type, over the same memory. */
  adopt(bytes: Uint8Array): Uint8Array;
}

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Each character code's six bits, or -1 for characters outside the alphabet. */
const sextets = new Int8Array(128).fill(-1);
for (let i = 0; i < alphabet.length; i++) sextets[alphabet.charCodeAt(i)] = i;

function sextet(text: string, i: number): number {
  const code = text.charCodeAt(i);
  return code < 128 ? sextets[code]! : -1;
}

/** Standard padded base64 to bytes; undefined for a wrong length, padding or character. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const isLast = i + 4 === text.length;
    const a = sextet(text, i);
    const b = sextet(text, i + 1);
    const c = isLast && padding === 2 ? 0 : sextet(text, i + 2);
    const d = isLast && padding >= 1 ? 0 : sextet(text, i + 3);
    if ((a | b | c | d) < 0) return undefined;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 0xff;
    if (o < out.length) out[o++] = n & 0xff;
  }
  return out;
}

export function encodeBase64(bytes: Uint8Array): string {
  let text = '';
  const n = bytes.length;
  for (let i = 0; i < n; i += 3) {
    const a = bytes[i]!;
    const b = i + 1 < n ? bytes[i + 1]! : 0;
    const c = i + 2 < n ? bytes[i + 2]! : 0;
    const v = (a << 16) | (b << 8) | c;
    text += alphabet[v >> 18]! + alphabet[(v >> 12) & 63]!;
    text += i + 1 < n ? alphabet[(v >> 6) & 63]! : '=';
    text += i + 2 < n ? alphabet[v & 63]! : '=';
  }
  return text;
}

/** Plain Uint8Array and the base64 above: for registries that must run without Node (the browser's). */
export const portableBytes: ByteForms = Object.freeze({
  fromBase64: decodeBase64,
  toBase64: encodeBase64,
  adopt: (bytes: Uint8Array) => bytes,
});
