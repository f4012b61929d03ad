// Node's byte forms for registries: decoded bytes are Buffers, and base64 goes through Node's own
// codec (much faster than the portable table in bytes.ts). The only file of the registry's walks
// that uses Buffer; the browser build never reaches it.
import type { ByteForms } from './bytes.js';

/**
 * Padded base64 (RFC 4648 section 4) to a new Buffer, or undefined when malformed. Node's decoder
 * skips characters outside the alphabet, so a short result exposes them; this is much faster than
 * a regular expression over the text. (Node also reads the URL-safe `-` and `_`; they are tolerated.)
 */
export function parseBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0) return undefined;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === (text.length / 4) * 3 - padding ? bytes : undefined;
}

/** `bytes` as a Buffer over the same memory (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function toBase64(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('base64');
}

export const nodeBytes: ByteForms = Object.freeze({ fromBase64: parseBase64, toBase64, adopt: asBuffer });
