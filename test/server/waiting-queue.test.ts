// The queue of messages waiting for an in-flight slot, as a pure part: bytes and tags come back as
// pushed, in order, across slab boundaries and for messages larger than a slab; the caller's buffer
// may be reused at once; the charge (bytes, overhead, the tag's) follows what waits; bookkeeping
// stays bounded when it never empties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { WaitingQueue, waitingOverheadBytes } from '../../src/server/waiting-queue.js';

test('messages of every size come back byte for byte and in order, across slabs, while pushes and shifts interleave', () => {
  const sizes = [1, 7, 100, 65_535, 65_536, 65_537, 200_000, 3, 64 * 1024 - 5, 9, 1, 30_000, 40_000];
  const queue = new WaitingQueue<number>((tag) => tag % 3);
  const expected: Buffer[] = [];
  const tags: number[] = [];
  const scratch = Buffer.alloc(300_000);
  for (let round = 0; round < 3; round++) {
    for (const size of sizes) {
      const message = randomBytes(size);
      message.copy(scratch);
      queue.push(scratch.subarray(0, size), expected.length);
      scratch.fill(0); // the caller reuses its buffer at once
      tags.push(expected.length);
      expected.push(message);
    }
    // Take half back before pushing more: reads and writes share slabs.
    for (let i = 0; i < sizes.length / 2; i++)
      assert.deepEqual(queue.shift(), { message: expected.shift(), tag: tags.shift() });
  }
  assert.equal(queue.length, expected.length);
  assert.equal(
    queue.chargedBytes,
    expected.reduce((sum, m, i) => sum + m.length + waitingOverheadBytes + (tags[i]! % 3), 0),
  );
  const views: Buffer[] = [];
  const seen: number[] = [];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    views.push(next.message);
    seen.push(next.tag);
  }
  assert.deepEqual(views, expected, 'every message, in order');
  assert.deepEqual(seen, tags, 'with its tag');
  assert.equal(queue.shift(), undefined);
  assert.equal(queue.chargedBytes, 0);
  queue.push(Buffer.from('again'), 7);
  assert.equal(views[0]!.equals(expected[0]!), true, 'a view handed out stays valid after later pushes');
  assert.deepEqual(queue.shift(), { message: Buffer.from('again'), tag: 7 });
});

test('a queue that never empties keeps working past its compaction point, and clear() drops everything', () => {
  const queue = new WaitingQueue<number>();
  let next = 0;
  let expected = 0;
  for (let i = 0; i < 50; i++) queue.push(Buffer.from(String(next)), next++);
  for (let step = 0; step < 100_000; step++) {
    queue.push(Buffer.from(String(next)), next++);
    const taken = queue.shift()!;
    assert.equal(taken.message.toString(), String(expected));
    assert.equal(taken.tag, expected++);
  }
  assert.equal(queue.length, 50);
  queue.clear();
  assert.equal(queue.length, 0);
  assert.equal(queue.chargedBytes, 0);
  assert.equal(queue.shift(), undefined);
});
