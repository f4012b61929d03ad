// Reads test/fixtures/gaw07-plain-transcript.txt: each `C>S` / `S>C` line is one TCP read shown as a
// Python bytes literal. Returns the reads in order, decoded to the exact bytes on the wire.
import { readFixture } from '../helpers/fixtures.js';

export interface TranscriptRead {
  direction: 'C>S' | 'S>C';
  bytes: Buffer;
  isAbridged: boolean;
}

const LINE = /^(C>S|S>C)( \(abridged\))? b'(.*)'$/;
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  '\\': 0x5c,
  "'": 0x27,
  '"': 0x22,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  '0': 0x00,
};

/** The bytes a Python bytes literal's body (between the quotes) stands for. */
export function pythonBytes(literal: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < literal.length; i++) {
    const ch = literal[i]!;
    if (ch !== '\\') {
      out.push(ch.charCodeAt(0));
      continue;
    }
    const next = literal[++i]!;
    if (next === 'x') {
      out.push(parseInt(literal.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (SIMPLE_ESCAPES[next] !== undefined) out.push(SIMPLE_ESCAPES[next]!);
    else throw new Error(`unsupported escape \\${next} in the transcript`);
  }
  return Buffer.from(out);
}

export function loadTranscript(): TranscriptRead[] {
  const reads: TranscriptRead[] = [];
  for (const line of readFixture('gaw07-plain-transcript.txt').split('\n')) {
    const match = LINE.exec(line);
    if (match === null) continue;
    reads.push({
      direction: match[1] as 'C>S' | 'S>C',
      bytes: pythonBytes(match[3]!),
      isAbridged: match[2] !== undefined,
    });
  }
  return reads;
}

/** One direction's reads joined into the byte stream it carried. */
export function streamOf(reads: readonly TranscriptRead[], direction: 'C>S' | 'S>C'): Buffer {
  return Buffer.concat(reads.filter((read) => read.direction === direction).map((read) => read.bytes));
}

/** One direction's frames, each as the exact wire bytes of its length line and payload. */
export function wireFrames(reads: readonly TranscriptRead[], direction: 'C>S' | 'S>C'): Buffer[] {
  const frames: Buffer[] = [];
  let pending: Buffer | undefined;
  for (const read of reads.filter((r) => r.direction === direction)) {
    const bytes = pending === undefined ? read.bytes : Buffer.concat([pending, read.bytes]);
    pending = bytes[bytes.length - 1] === 0x0a ? bytes : undefined;
    if (pending === undefined) frames.push(bytes);
  }
  return frames;
}

/** The JSON payload of a wire frame. */
export function jsonOf(frame: Buffer): Buffer {
  return frame.subarray(frame.indexOf(0x0a) + 1);
}
