// Leaves nothing open after a test file, even when a test fails or times out: the helpers that open
// sockets and listeners register a way to close them here, and one root-level `after` hook closes
// whatever is left, so a failed test cannot keep the test process alive.
import { after } from 'node:test';

const openResources = new Set<() => unknown>();

/** Registers a closer; returns a function that forgets it (call it once closed normally). */
export function track(close: () => unknown): () => void {
  openResources.add(close);
  return () => openResources.delete(close);
}

after(async () => {
  const closers = [...openResources];
  openResources.clear();
  await Promise.allSettled(closers.map(async (close) => close()));
});
