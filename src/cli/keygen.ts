// `gaw keygen [--bytes 16|24|32]`: a fresh secret from the CSPRNG, printed as base64, the form
// --secret, --secret-file and GAW_SECRET take (Python Gaw's format). Nothing else.
import { randomBytes } from 'node:crypto';
import type { Output } from './call.js';
import { exitCodes, readInteger, usage } from './options.js';
import type { Argv } from './options.js';

export const keygenOptions = {
  bytes: { type: 'string', choices: ['16', '24', '32'], defaultDescription: '32', describe: 'secret size in bytes' },
} as const;

/** A base64 secret of `bytes` random bytes. */
export function generateSecret(bytes: 16 | 24 | 32 = 32): string {
  return randomBytes(bytes).toString('base64');
}

export async function runKeygen(argv: Argv, io: Output): Promise<number> {
  const bytes = readInteger(argv, 'bytes', 16, 32) ?? 32;
  if (bytes !== 16 && bytes !== 24 && bytes !== 32) throw usage('--bytes must be 16, 24 or 32');
  await io.out(`${generateSecret(bytes)}\n`);
  return exitCodes.ok;
}
