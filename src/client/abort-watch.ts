// One 'abort' listener per AbortSignal, however many calls wait on it. EventTarget scans every
// listener on add and on remove, so 20,000 calls sharing one signal took seconds (quadratic) and
// warned about a listener leak; here each call is one Set entry. Knows nothing of calls or timers.

interface Watch {
  readonly callbacks: Set<() => void>;
  readonly listener: () => void;
}

const watches = new WeakMap<AbortSignal, Watch>();

/**
 * Runs `callback` once when `signal` aborts; the returned function stops watching (idempotent).
 * The signal must not be aborted already: callers check `signal.aborted` first.
 */
export function watchAbort(signal: AbortSignal, callback: () => void): () => void {
  let watch = watches.get(signal);
  if (watch === undefined) {
    const callbacks = new Set<() => void>();
    const listener = (): void => {
      watches.delete(signal);
      for (const run of [...callbacks]) run();
      callbacks.clear();
    };
    watch = { callbacks, listener };
    watches.set(signal, watch);
    signal.addEventListener('abort', listener, { once: true });
  }
  const { callbacks, listener } = watch;
  callbacks.add(callback);
  return () => {
    if (!callbacks.delete(callback) || callbacks.size > 0) return;
    if (watches.get(signal)?.callbacks === callbacks) watches.delete(signal);
    signal.removeEventListener('abort', listener);
  };
}
