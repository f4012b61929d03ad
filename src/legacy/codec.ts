// Bytes <-> legacy envelopes: Python-style JSON text, sealed by mode, framed with its ASCII length.
// Pure. The listener and the client share it; opening (authentication) and parsing are separate
// steps because their failures are handled differently (close the connection vs. reply an error).
import { SerializationError } from '../errors.js';
import { encodeFrame } from './frame.js';
import { parsePythonJson } from './json-parser.js';
import type { PythonJsonParseOptions } from './json-parser.js';
import { stringifyPython } from './json-writer.js';
import { sealBody } from './seal.js';
import type { LegacySealing } from './seal.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The JSON text of an envelope, as UTF-8 bytes (ASCII, as Python writes it). */
export function envelopeBytes(envelope: unknown): Buffer {
  return Buffer.from(stringifyPython(envelope), 'utf8');
}

/** A whole frame (length header included) for JSON bytes, sealed for the mode. */
export function sealFrame(sealing: LegacySealing, json: Uint8Array, iv?: Uint8Array): Buffer {
  return encodeFrame(sealBody(sealing, json, iv));
}

/** Parses opened JSON bytes. Throws SerializationError for invalid UTF-8, invalid JSON or deep nesting. */
export function parseJsonBytes(json: Uint8Array, options?: PythonJsonParseOptions): unknown {
  let text: string;
  try {
    text = utf8.decode(json);
  } catch (err) {
    throw new SerializationError('GAW_ERR_DECODE', 'the payload is not valid UTF-8', { cause: err });
  }
  return parsePythonJson(text, options);
}
