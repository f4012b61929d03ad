// Python Gaw 0.7 as a Transport: the legacy client (src/legacy) makes the exchange, one call per
// connection at a time, and this turns its result or its RemoteError into an outcome, so retries,
// deadlines and aborts are GawClient's as for GAWP/1. Python Gaw has no notifications, no batches
// and no raw wire data: the features say so and they are refused with a clear error.
import { RemoteError, UsageError } from '../errors.js';
import { LegacyClient } from '../legacy/index.js';
import type { LegacyClientOptions } from '../legacy/index.js';
import { createRawJsonCodec } from '../serializable/index.js';
import type { Attempt, Outcome, OutgoingBatchCall, OutgoingCall, Transport, TransportFeatures } from './transport.js';

const features: TransportFeatures = Object.freeze({ notifications: false, batches: false, ownCodec: false });

/** The legacy client revives results itself (in Python Gaw's dialect): nothing is left to revive. */
const passThrough = createRawJsonCodec();

export class LegacyTransport implements Transport {
  readonly protocol = 'gaw-legacy';
  readonly features = features;
  readonly codec = passThrough;
  readonly #client: LegacyClient;
  #pending = 0;

  constructor(options: LegacyClientOptions) {
    this.#client = new LegacyClient(options);
  }

  get pendingCount(): number {
    return this.#pending;
  }

  /** Not tracked per connection by the legacy client: calls in flight hold one each. */
  get connectionCount(): number {
    return this.#pending;
  }

  async call(call: OutgoingCall, attempt: Attempt): Promise<Outcome> {
    const timeoutMs = Math.max(1, Math.ceil(attempt.deadlineMs - performance.now()));
    this.#pending++;
    try {
      const result = await this.#client.call(call.method, call.params, {
        timeoutMs,
        ...(attempt.signal !== undefined && { signal: attempt.signal }),
      });
      return { result };
    } catch (err) {
      // A Python exception is the handler's answer, not a transport failure.
      if (err instanceof RemoteError)
        return {
          error: { code: err.rpcCode, message: err.message, ...(err.data !== undefined && { data: err.data }) },
        };
      throw err;
    } finally {
      this.#pending--;
    }
  }

  batch(_calls: readonly OutgoingBatchCall[], _attempt: Attempt): Promise<Outcome[]> {
    return Promise.reject(new UsageError('GAW_ERR_INVALID_OPTION', 'Python Gaw 0.7 has no batches'));
  }

  notify(_call: OutgoingCall, _signal: AbortSignal | undefined): Promise<void> {
    return Promise.reject(new UsageError('GAW_ERR_INVALID_OPTION', 'Python Gaw 0.7 has no notifications'));
  }

  close(): Promise<void> {
    return this.#client.close();
  }

  destroy(): void {
    this.#client.destroy();
  }
}
