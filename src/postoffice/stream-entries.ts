// GAWP/1's stream extension (handshake flag bit 2, STREAM, only together with CTX): the entries a
// server-streaming call adds to the call-context extension's. A stream opens with a kind-1 CALL
// whose context has field 5 (stream_window); items and credit go as their own entry kinds; the end
// is the request's ordinary JSON-RPC response; a cancel is CTX's kind-2 CANCEL. Pure bytes here.
//
//   kind 3  ITEM   : stream_id(u32) ‖ value          server to client (value: the codec's bytes)
//   kind 4  CREDIT : stream_id(u32) ‖ credit(u32)   client to server (credit ≥ 1, in items)
//   ctx field 5 stream_window, len 4, u32: the stream's initial credit, in items
import { ProtocolError } from '../errors.js';

/** ClientHello / ServerHello flags bit 2: both peers speak the stream extension (with CTX). */
export const FLAG_STREAM = 0x04;

export const streamEntryKinds = Object.freeze({ item: 3, credit: 4 });

/** The context field that makes a kind-1 CALL open a stream. */
export const STREAM_WINDOW_FIELD = 5;

export const streamLimits = Object.freeze({
  /** The largest stream id, window or unused credit. */
  maxCredit: 0xffff_ffff,
  maxStreamId: 0xffff_ffff,
  /** Bytes before an item's value: its kind and stream id. */
  itemHeadBytes: 5,
  creditEntryBytes: 9,
});

function fatal(reason: string): ProtocolError {
  return new ProtocolError('GAW_ERR_BAD_FRAME', `bad stream entry: ${reason}`);
}

function checkU32(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min || value > 0xffff_ffff)
    throw new ProtocolError('GAW_ERR_BAD_FRAME', `a stream's ${name} must be an integer from ${min} to 2^32 - 1`);
}

/** The head written before an item's value: kind 3 and the stream id. */
export function itemHead(streamId: number): Buffer {
  checkU32('id', streamId, 0);
  const head = Buffer.allocUnsafe(streamLimits.itemHeadBytes);
  head[0] = streamEntryKinds.item;
  head.writeUInt32BE(streamId, 1);
  return head;
}

/** A kind-4 entry granting `credit` more items on stream `streamId`. */
export function creditEntry(streamId: number, credit: number): Buffer {
  checkU32('id', streamId, 0);
  checkU32('credit', credit, 1);
  const entry = Buffer.allocUnsafe(streamLimits.creditEntryBytes);
  entry[0] = streamEntryKinds.credit;
  entry.writeUInt32BE(streamId, 1);
  entry.writeUInt32BE(credit, 5);
  return entry;
}

/** The stream id of a kind-3 entry; its value starts at byte 5. Throws ProtocolError (fatal) without a value. */
export function readItemEntry(entry: Buffer): number {
  if (entry.length <= streamLimits.itemHeadBytes) throw fatal('an item needs a stream id and a value');
  return entry.readUInt32BE(1);
}

/** The stream id and credit of a kind-4 entry. Throws ProtocolError (fatal) for a bad length or a credit of 0. */
export function readCreditEntry(entry: Buffer): { streamId: number; credit: number } {
  if (entry.length !== streamLimits.creditEntryBytes) throw fatal('a credit entry is exactly 9 bytes');
  const credit = entry.readUInt32BE(5);
  if (credit === 0) throw fatal('a credit of 0');
  return { streamId: entry.readUInt32BE(1), credit };
}
