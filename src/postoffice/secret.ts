// Pre-shared secrets: parsing and validating the base64 form, and the key ring a server holds for
// rotation. A secret's value never appears in an error, a log line or a string conversion.
import { UsageError } from '../errors.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes a secret given as base64 of exactly 16, 24 or 32 bytes (Python Gaw's format; surrounding
 * whitespace, as in a secret file, is ignored). Anything else throws GAW_ERR_BAD_SECRET.
 */
export function parseSecret(value: unknown, what = 'secret'): Buffer {
  if (typeof value !== 'string') {
    throw new UsageError('GAW_ERR_BAD_SECRET', `${what} must be a base64 string (make one with \`gaw keygen\`)`);
  }
  const text = value.trim();
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new UsageError('GAW_ERR_BAD_SECRET', `${what} is not valid base64 (make one with \`gaw keygen\`)`);
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== 16 && bytes.length !== 24 && bytes.length !== 32) {
    throw new UsageError(
      'GAW_ERR_BAD_SECRET',
      `${what} must decode to 16, 24 or 32 bytes, not ${bytes.length} (make one with \`gaw keygen\`)`,
    );
  }
  return bytes;
}

/** Secrets by key id (0-255). A client uses one; a server accepts any it holds. */
export class KeyRing {
  readonly #keys = new Map<number, Buffer>();

  /** `secrets`: one secret (key id 0) or an object of key id to secret. */
  constructor(secrets: string | Readonly<Record<number, string>>) {
    if (typeof secrets === 'string') {
      this.#keys.set(0, parseSecret(secrets));
      return;
    }
    for (const [id, secret] of Object.entries(secrets)) {
      const keyId = Number(id);
      if (!Number.isInteger(keyId) || keyId < 0 || keyId > 255) {
        throw new UsageError('GAW_ERR_INVALID_OPTION', `key id ${JSON.stringify(id)} must be an integer from 0 to 255`);
      }
      this.#keys.set(keyId, parseSecret(secret, `secret for key id ${keyId}`));
    }
    if (this.#keys.size === 0) throw new UsageError('GAW_ERR_BAD_SECRET', 'the key ring holds no secret');
  }

  get(keyId: number): Buffer | undefined {
    return this.#keys.get(keyId);
  }

  get ids(): number[] {
    return [...this.#keys.keys()];
  }

  toString(): string {
    return `KeyRing(${this.#keys.size} secret${this.#keys.size === 1 ? '' : 's'})`;
  }

  toJSON(): string {
    return this.toString();
  }
}
