// How a Connection groups the messages sent in one tick into DATA frames, seen on the wire by a
// hand-played peer: small ones share a frame, a burst past 64 KiB streams as several frames in
// order (so the peer can start on the first while the rest is encoded), a larger message goes alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GawpClient } from '../helpers/gawp-peer.js';
import { rawClientOf, startEchoListener } from '../helpers/echo-listener.js';

const timeout = 10_000;

/** Reads frames until `count` messages have arrived; returns the messages of each frame. */
async function framesHolding(client: GawpClient, count: number): Promise<string[][]> {
  const frames: string[][] = [];
  let seen = 0;
  while (seen < count) {
    const frame = await client.receive();
    frames.push(frame.messages);
    seen += frame.messages.length;
  }
  return frames;
}

for (const suite of ['none', 'cbc'] as const) {
  test(`suite ${suite}: one tick's messages share a frame up to 64 KiB, and the rest follow in order`, {
    timeout,
  }, async () => {
    const echo = await startEchoListener({ suite, echo: false });
    try {
      const { client, server } = await rawClientOf(echo);
      const small = Array.from({ length: 50 }, (_, i) => `small ${i}`);
      for (const m of small) server.send(Buffer.from(m));
      assert.deepEqual(await framesHolding(client, small.length), [small]);

      // 20 messages of 16 KiB: four fit under 64 KiB with their length prefixes, so five frames.
      const big = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, '0')}:`.padEnd(16 * 1024 - 8, 'x'));
      for (const m of big) server.send(Buffer.from(m));
      const frames = await framesHolding(client, big.length);
      assert.deepEqual(
        frames.map((f) => f.length),
        [4, 4, 4, 4, 4],
      );
      assert.deepEqual(frames.flat(), big);

      // A message over 64 KiB leaves alone; the small ones around it keep their order.
      const huge = 'h'.repeat(100 * 1024);
      for (const m of ['before', huge, 'after']) server.send(Buffer.from(m));
      assert.deepEqual(await framesHolding(client, 3), [['before'], [huge], ['after']]);
      client.raw.destroy();
    } finally {
      await echo.close();
    }
  });
}
