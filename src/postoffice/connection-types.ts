// The types a Connection is made from and emits: the Session the handshake hands it (the suite,
// codec and key it settled on, the per-direction sealer and opener) and its events. Types only.
import type { GawError } from '../errors.js';
import type { WireContext } from './call-context.js';
import type { Opener, Sealer } from './seal.js';

/** What the handshake settled on, and the per-direction sealer and opener it keyed. */
export interface Session {
  suite: number;
  codec: number;
  keyId: number;
  hasForwardSecrecy: boolean;
  sealer: Sealer;
  opener: Opener;
  /**
   * Set when both hellos carried the CTX flag: which side this is, so it knows which entry kinds it
   * may receive (a server takes calls with context and cancels; a client only plain messages).
   */
  callContext?: 'client' | 'server' | undefined;
  /** Set when both hellos carried STREAM (with CTX): items and credit entries (stream-entries.ts) may flow. */
  hasStreams?: boolean;
}

export interface ConnectionEvents {
  /**
   * One message (a view valid until the listener returns; copy it to keep it), with the context
   * the client sent with it when the call-context extension is on (call-context.ts).
   */
  message: [message: Buffer, context: WireContext | undefined];
  /** The client cancelled the request whose id has this JSON text (call-context extension only). */
  cancel: [idText: string];
  /** An item of a stream this client opened (a view valid until the listener returns; stream extension). */
  item: [streamId: number, value: Buffer];
  /** The client granted more credit on a stream (stream extension, server side). */
  credit: [streamId: number, credit: number];
  /** The peer sent CLOSE: it will send no more requests (client) or take no new ones (server). */
  closeReceived: [];
  /** Emitted once; `err` is set when the connection failed rather than closed cleanly. */
  close: [err: GawError | undefined];
  /** The socket's unsent output fell back below the high-water mark. */
  drain: [];
}
