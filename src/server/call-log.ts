// The dispatcher's per-call debug line ("rpc call": request id, peer, method, duration, outcome). A
// success that has a reply is logged only once the transport has encoded it (logReplies), so a
// result that could not be sent is logged as the error it became, never as ok. Does nothing while
// debug is off.
import type { Logger } from '../log.js';
import type { InboundCall } from './inbound-call.js';

export class CallLog {
  readonly #logger: Logger;
  /** Successful responses whose line waits for logReplies(); set only while debug is on. */
  readonly #unlogged = new WeakMap<object, { method: string; startMs: number; call: InboundCall }>();
  #hasUnlogged = false;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  get isOn(): boolean {
    return this.#logger.isLevelEnabled?.('debug') !== false;
  }

  /** The call's start time when its line will be written, else -1 (the other methods then do nothing). */
  start(): number {
    return this.isOn ? performance.now() : -1;
  }

  log(method: string, startMs: number, outcome: string, call?: InboundCall): void {
    if (startMs < 0) return;
    const durationMs = Math.round((performance.now() - startMs) * 1000) / 1000;
    if (call === undefined) this.#logger.debug({ method, durationMs, outcome }, 'rpc call');
    else this.#logger.debug({ requestId: call.requestId, peer: call.peer, method, durationMs, outcome }, 'rpc call');
  }

  /** Leaves the line of `response`, a success, to logReplies(). */
  defer(response: object, method: string, startMs: number, call: InboundCall): void {
    if (startMs < 0) return;
    this.#unlogged.set(response, { method, startMs, call });
    this.#hasUnlogged = true;
  }

  /**
   * Writes the deferred line of each response in `reply` (one, or a batch): with the outcome
   * `failureOf` names for it (e.g. 'reply too large'), else 'ok'. Never throws.
   */
  logReplies(reply: unknown, failureOf?: (response: object) => string | undefined): void {
    if (!this.#hasUnlogged || typeof reply !== 'object' || reply === null) return;
    for (const response of Array.isArray(reply) ? reply : [reply]) {
      const line = typeof response === 'object' && response !== null ? this.#unlogged.get(response) : undefined;
      if (line === undefined) continue;
      this.#unlogged.delete(response);
      try {
        this.log(line.method, line.startMs, failureOf?.(response) ?? 'ok', line.call);
      } catch {
        // a logger that throws must not cost the caller its reply
      }
    }
  }
}
