// The client's table of calls in flight: unique ids, a forgotten id never matches a newer call in
// its slot, growth under many calls, and ids that stay u32s.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maxRequestId, PendingTable } from '../../src/client/pending-table.js';

const entry = () => ({ id: 0 });

test('ids grow, a taken slot is skipped, and an id is found until it is taken', () => {
  const table = new PendingTable();
  const long = entry();
  const longId = table.add(long); // stays in flight while 10,000 others come and go
  let last = longId;
  for (let i = 0; i < 10_000; i++) {
    const e = entry();
    const id = table.add(e);
    assert.ok(id > last, 'ids only grow');
    assert.notEqual(id & 63, longId & 63, 'the slot of a call in flight is skipped');
    last = id;
    assert.equal(table.get(id), e);
    assert.equal(table.take(id), e);
    assert.equal(table.get(id), undefined);
    assert.equal(table.take(id), undefined, 'a late reply to a forgotten id finds nothing');
  }
  assert.equal(table.get(longId), long);
  assert.equal(table.size, 1);
});

test('a late reply for a forgotten id does not reach the newer call in its slot', () => {
  const table = new PendingTable();
  const ids: number[] = [];
  for (let i = 0; i < 64; i++) ids.push(table.add(entry()));
  for (const id of ids) table.take(id);
  const newer = entry();
  const newerId = table.add(newer);
  const sameSlot = ids.find((id) => (id & 127) === (newerId & 127) || (id & 63) === (newerId & 63));
  if (sameSlot !== undefined) assert.equal(table.get(sameSlot), undefined);
  assert.equal(table.get(newerId), newer);
});

test('100,000 calls in flight at once: every one found by its id, then all taken', () => {
  const table = new PendingTable();
  const entries = Array.from({ length: 100_000 }, entry);
  const ids = entries.map((e) => table.add(e));
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(table.size, 100_000);
  for (let i = 0; i < ids.length; i += 997) assert.equal(table.get(ids[i]!), entries[i]);
  const all = table.takeAll();
  assert.equal(all.length, 100_000);
  assert.equal(table.size, 0);
  assert.equal(table.get(ids[0]!), undefined);
});

test('past the largest id (a u32) ids start again at 1', () => {
  const table = new PendingTable(maxRequestId - 1);
  const a = table.add(entry());
  const b = table.add(entry());
  const c = table.add(entry());
  assert.deepEqual([a, b, c], [maxRequestId - 1, maxRequestId, 1]);
  assert.ok(table.get(b) !== undefined && table.get(c) !== undefined);
  assert.equal(table.take(b)?.id, b);
});
