// The measuring core of the benchmarks: a closed-loop load generator (N calls in flight, each
// worker starts its next call when the last one returns), latency percentiles, and the median and
// spread of repeated runs. Knows nothing of gaw or of any peer: it drives a `call()` function.

/** One measured window of a closed loop. */
export interface LoopResult {
  calls: number;
  seconds: number;
  callsPerSecond: number;
  p50Us: number;
  p99Us: number;
  /** CPU time (user + system) of this process per measured call. */
  cpuUsPerCall: number;
  /** CPU time of the server process per measured call, when the parent asked the server. */
  serverCpuUsPerCall?: number;
  errors: number;
  firstError?: string;
}

export interface LoopOptions {
  inFlight: number;
  warmupMs: number;
  durationMs: number;
  /** Called as the measured window opens and as it closes (the parent samples the server's CPU). */
  onWindow?: (phase: 'start' | 'end') => void;
}

const MAX_SAMPLES = 8_000_000;

/** Latency samples in microseconds, in a growable typed array (no boxing per call). */
class Samples {
  #data = new Float64Array(1 << 16);
  #length = 0;

  push(us: number): void {
    if (this.#length === this.#data.length) {
      if (this.#length >= MAX_SAMPLES) return; // enough to rank; the count is kept elsewhere
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.#length++] = us;
  }

  clear(): void {
    this.#length = 0;
  }

  sorted(): Float64Array {
    return this.#data.slice(0, this.#length).sort();
  }
}

/** The value at quantile q (0..1) of an ascending array; NaN when empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

/**
 * Runs `call` with `inFlight` concurrent workers: a warm-up window whose calls are not counted,
 * then a measured window. A failing call is counted and the loop goes on; the first error's
 * message is kept so a broken case shows up in the table rather than as a fast zero.
 */
export async function closedLoop(call: () => Promise<unknown>, options: LoopOptions): Promise<LoopResult> {
  const samples = new Samples();
  let isRunning = true;
  let isRecording = false;
  let calls = 0;
  let errors = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    while (isRunning) {
      const startMs = performance.now();
      try {
        await call();
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        // A call that fails at once must not spin on microtasks and starve the window's timer.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      if (isRecording) {
        samples.push((performance.now() - startMs) * 1000);
        calls++;
      }
    }
  };
  const workers = Array.from({ length: options.inFlight }, worker);
  await delay(options.warmupMs);
  samples.clear();
  errors = 0;
  firstError = undefined;
  calls = 0;
  isRecording = true;
  options.onWindow?.('start');
  const startMs = performance.now();
  const startCpu = process.cpuUsage();
  await delay(options.durationMs);
  isRecording = false;
  const cpu = process.cpuUsage(startCpu);
  const seconds = (performance.now() - startMs) / 1000;
  options.onWindow?.('end');
  const measured = calls;
  isRunning = false;
  await Promise.all(workers);
  const sorted = samples.sorted();
  return {
    calls: measured,
    seconds,
    callsPerSecond: measured / seconds,
    cpuUsPerCall: (cpu.user + cpu.system) / Math.max(1, measured),
    p50Us: quantile(sorted, 0.5),
    p99Us: quantile(sorted, 0.99),
    errors,
    ...(firstError !== undefined && { firstError }),
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** (max - min) / median of repeats, as a fraction: how much the noisy machine moved the number. */
export function spread(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = median(values);
  return m === 0 ? 0 : (Math.max(...values) - Math.min(...values)) / m;
}
