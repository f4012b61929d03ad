// Raw handshake probes shared by the handshake and downgrade attacks: a hello with chosen fields,
// and what a server writes back to a lone byte string before it closes.
import { randomBytes } from 'node:crypto';
import { encodeHello } from '../../../src/postoffice/handshake.js';
import { RawSocket } from '../../helpers/raw-socket.js';
import { within } from '../../helpers/server-fixtures.js';
import type { Victim } from './victim.js';

/** A 73-byte hello with chosen fields (a fresh random, a real X25519-sized key of random bytes). */
export function hello(fields: {
  version?: number;
  suite?: number;
  flags?: number;
  codec?: number;
  keyId?: number;
}): Buffer {
  return encodeHello({
    version: fields.version ?? 1,
    suite: fields.suite ?? 1,
    flags: fields.flags ?? 0,
    codec: fields.codec ?? 0,
    keyId: fields.keyId ?? 0,
    random: randomBytes(32),
    eph: randomBytes(32),
  });
}

/** Sends `bytes` on a new TCP connection and returns everything the server wrote before it closed. */
export async function answerTo(victim: Victim, bytes: Buffer, options: { fin?: boolean } = {}): Promise<Buffer> {
  const raw = await RawSocket.connect(victim.port);
  const received: Buffer[] = [];
  raw.socket.on('data', (chunk: Buffer) => received.push(chunk));
  await raw.write(bytes).catch(() => {});
  if (options.fin) raw.end();
  await within(raw.closed, 3_000, 'the server closing the connection');
  return Buffer.concat(received);
}
