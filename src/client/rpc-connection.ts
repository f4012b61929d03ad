// One client connection: JSON-RPC requests out, responses matched back to their callers by id,
// many in flight at once. Owns the id space and the pending map of one Connection; knows
// nothing of endpoints, retries or timeouts (the client's), only how to cancel a pending id.
import { ConnectionError, GawError, ProtocolError } from '../errors.js';
import type { Logger } from '../log.js';
import { notificationMessage, parseResponse, requestMessage, responseFromText } from '../jsonrpc/index.js';
import type { JsonRpcParams, ParsedResponse } from '../jsonrpc/index.js';
import type { Connection, EntryHead } from '../postoffice/index.js';
import type { Codec } from '../serializable/index.js';
import { encodeRequest } from './request-message.js';
import { PendingTable, promised } from './pending-table.js';
import type { Pending } from './pending-table.js';
import type { Outcome } from './transport.js';
import { StreamTable } from './stream-table.js';
import type { StreamReceiver } from './stream-table.js';

export class RpcConnection {
  readonly connection: Connection;
  readonly #codec: Codec;
  readonly #logger: Logger;
  readonly #pending = new PendingTable<Pending>();
  readonly #batches: number[][] = [];
  readonly #streams = new StreamTable();
  readonly #lifetimeMs: number;
  #idleSince = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #isDraining = false;
  /** A call timed out with nothing received since: probing with rpc.ping. */
  #isSuspect = false;
  #probeId: number | undefined;
  /** Called once when the connection closes (the pool forgets it). */
  onClose: ((rpc: RpcConnection) => void) | undefined;

  constructor(connection: Connection, codec: Codec, logger: Logger, lifetimeMs: number) {
    this.connection = connection;
    this.#codec = codec;
    this.#logger = logger;
    this.#lifetimeMs = lifetimeMs;
    connection.on('message', (bytes) => this.#receive(bytes));
    connection.on('item', (id, bytes) => {
      const problem = this.#streams.item(id, bytes);
      if (problem !== undefined) connection.destroy(problem);
    });
    connection.on('closeReceived', () => {
      // The server takes no new requests here; in-flight ones still get their replies.
      this.#isDraining = true;
      if (this.#pending.size === 0) connection.end();
    });
    connection.once('close', (err) => this.#fail(err));
    this.#becameIdle();
  }

  /** Calls in flight (an internal rpc.ping probe is not counted). */
  get pendingCount(): number {
    return this.#pending.size - (this.#probeId === undefined ? 0 : 1);
  }

  /** A call timed out with nothing received since; an rpc.ping probe decides whether it is dead. */
  get isSuspect(): boolean {
    return this.#isSuspect;
  }

  /** False once the server said CLOSE, or the connection is closing. */
  get isUsable(): boolean {
    return !this.#isDraining && !this.#isSuspect && !this.connection.isDraining;
  }

  /** Sends a request; the promise settles with the raw outcome (the result is not yet revived). */
  request(
    method: string,
    params: JsonRpcParams | undefined,
    codec: Codec = this.#codec,
    head?: EntryHead,
  ): { id: number; outcome: Promise<Outcome> } {
    const { sink, outcome } = promised();
    return { id: this.send(method, params, codec, head, sink), outcome };
  }

  /**
   * Sends a request whose raw outcome goes to `sink` (no promise: the caller's own one settles
   * from it); returns its id. Throws, keeping nothing, when the message cannot be sent.
   */
  send(
    method: string,
    params: JsonRpcParams | undefined,
    codec: Codec | undefined,
    head: EntryHead | undefined,
    sink: Pending,
  ): number {
    sink.receivedAtSend = this.connection.chunksReceived;
    const id = this.#pending.add(sink);
    try {
      this.connection.send(encodeRequest(codec ?? this.#codec, id, method, params), head);
    } catch (err) {
      this.#pending.take(id);
      throw err;
    }
    if (this.#pending.size === 1) this.#becameBusy();
    return id;
  }

  /** Opens a server stream (`head` carries its window); `outcome` settles as StreamTable.add says. */
  stream(method: string, params: JsonRpcParams | undefined, codec: Codec, head: EntryHead, receiver: StreamReceiver) {
    const { id, outcome } = this.request(method, params, codec, head);
    return { id, outcome: this.#streams.add(id, receiver, outcome, this.connection, () => this.cancel(id)) };
  }

  notify(method: string, params: JsonRpcParams | undefined, codec: Codec = this.#codec): void {
    this.connection.send(codec.encode(notificationMessage(method, params)));
  }

  /** Sends a batch; each request's outcome in order (notifications have none). */
  batch(
    calls: readonly { method: string; params?: JsonRpcParams | undefined; isNotification?: boolean }[],
    head?: EntryHead,
  ): {
    ids: number[];
    outcomes: Promise<Outcome>[];
  } {
    const ids: number[] = [];
    const outcomes: Promise<Outcome>[] = [];
    const wasIdle = this.#pending.size === 0;
    const receivedAtSend = this.connection.chunksReceived;
    const messages = calls.map((call) => {
      if (call.isNotification) return notificationMessage(call.method, call.params);
      const { sink, outcome } = promised();
      sink.receivedAtSend = receivedAtSend;
      sink.batch = ids;
      const id = this.#pending.add(sink);
      ids.push(id);
      outcomes.push(outcome);
      return requestMessage(id, call.method, call.params);
    });
    try {
      this.connection.send(this.#codec.encode(messages), head);
    } catch (err) {
      for (const id of ids) this.#pending.take(id);
      throw err;
    }
    if (wasIdle && ids.length > 0) this.#becameBusy();
    if (ids.length > 0) this.#batches.push(ids);
    return { ids, outcomes };
  }

  /**
   * Forgets a pending id (timeout or abort) as a reply would; a late reply for it is dropped. With
   * the call-context extension the server gets a CANCEL for it.
   */
  cancel(id: number, timedOutAfterMs?: number): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    // Nothing at all arrived since this call was sent, not even part of a frame: the peer may be
    // gone. (Probing first keeps the connection busy, so #take neither idles nor ends it.)
    if (timedOutAfterMs !== undefined && pending.receivedAtSend === this.connection.chunksReceived)
      this.#suspect(timedOutAfterMs);
    this.#take(id);
    this.#streams.cancel(id);
    // With the call-context extension the server is told, so the handler's signal aborts.
    if (this.connection.hasCallContext) this.connection.sendCancel(id);
  }

  /**
   * A call timed out. If nothing at all arrived since then, the peer may be gone without a FIN or
   * RST (a dead host, a partition): send `rpc.ping` (a gaw server keeps reading at its in-flight
   * cap and answers it as soon as it reads it, however busy); no answer within the call's own
   * timeout, but 5 s at least and 15 s at most, and the connection is destroyed, so later calls
   * redial or fail over instead of timing out one by one. The ping is read after every request sent
   * before it, so a server working through a backlog answers it late: 5 s (measured: 5,000
   * pipelined requests took a loaded 2-core server over 2 s) keeps a busy server from being taken
   * for a dead one. New calls avoid it while the probe is out.
   */
  #suspect(timeoutMs: number): void {
    if (this.#isSuspect || this.connection.isClosed) return;
    let probe: { id: number; outcome: Promise<Outcome> };
    try {
      probe = this.request('rpc.ping', undefined);
    } catch {
      return;
    }
    this.#isSuspect = true;
    this.#probeId = probe.id;
    const probeMs = Math.min(15_000, Math.max(5_000, timeoutMs));
    const timer = setTimeout(() => {
      this.#pending.take(probe.id);
      this.#probeId = undefined;
      this.connection.destroy(
        new ConnectionError(
          'GAW_ERR_CONN_CLOSED',
          `the server stopped answering: no reply to rpc.ping within ${probeMs} ms`,
        ),
      );
    }, probeMs).unref();
    const settle = () => {
      clearTimeout(timer);
      this.#probeId = undefined;
      this.#isSuspect = false;
    };
    probe.outcome.then(settle, settle);
  }

  /** No new requests; closes once the pending ones are answered. */
  drain(): void {
    this.#isDraining = true;
    if (this.#pending.size === 0) this.connection.end();
    else this.connection.sendClose();
  }

  #receive(bytes: Buffer): void {
    let data: unknown;
    try {
      data = this.#codec.decodeShort?.(bytes, responseFromText) ?? this.#codec.decode(bytes);
      if (Array.isArray(data)) {
        for (const element of data) this.#settle(parseResponse(element));
      } else {
        this.#settle(parseResponse(data));
      }
    } catch (err) {
      const problem =
        err instanceof GawError
          ? err
          : new ProtocolError('GAW_ERR_BAD_RESPONSE', 'the server sent a reply that cannot be read', { cause: err });
      this.#logger.warn(
        { peer: this.connection.remoteAddress, code: problem.code },
        'bad reply from server; closing the connection',
      );
      this.connection.destroy(
        new ProtocolError('GAW_ERR_BAD_RESPONSE', `the server sent a reply that cannot be read: ${problem.message}`, {
          cause: problem,
        }),
      );
    }
  }

  #settle(response: ParsedResponse): void {
    // A parsed response is an outcome already (its result, or its checked error).
    const outcome: Outcome = response;
    if (typeof response.id !== 'number') {
      // A batch-level error (id null): it answers the oldest batch still waiting.
      if (response.id === null && 'error' in response) {
        const ids = this.#batches.find((batch) => batch.some((id) => this.#pending.get(id) !== undefined));
        for (const id of ids ?? []) this.#take(id)?.settle(outcome);
      }
      return;
    }
    this.#take(response.id)?.settle(outcome);
  }

  #take(id: number): Pending | undefined {
    const pending = this.#pending.take(id);
    if (pending === undefined) return undefined;
    if (pending.batch !== undefined && !pending.batch.some((other) => this.#pending.get(other) !== undefined)) {
      const index = this.#batches.indexOf(pending.batch);
      if (index >= 0) this.#batches.splice(index, 1);
    }
    if (this.#pending.size === 0) {
      // Draining (the server said CLOSE, or the pool is closing): the last call is gone, so leave now.
      if (this.#isDraining) this.connection.end();
      else this.#becameIdle();
    }
    return pending;
  }

  /** Calls in flight: the connection's idle timeout must not cut a call that is merely slow. */
  #becameBusy(): void {
    this.#idleSince = 0;
    this.connection.setBusy(true);
  }

  #becameIdle(): void {
    this.connection.setBusy(false);
    this.#idleSince = Date.now();
    if (this.#idleTimer === undefined && this.#lifetimeMs > 0) this.#armIdleTimer(this.#lifetimeMs);
  }

  #armIdleTimer(ms: number): void {
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#pending.size > 0 || this.#idleSince === 0) return;
      const idleMs = Date.now() - this.#idleSince;
      if (idleMs >= this.#lifetimeMs) this.drain();
      else this.#armIdleTimer(this.#lifetimeMs - idleMs);
    }, ms).unref();
  }

  #fail(err: GawError | undefined): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    const reason = new ConnectionError(
      'GAW_ERR_CONN_CLOSED',
      `the connection to ${this.connection.remoteAddress}:${this.connection.remotePort} closed with the call in flight${err ? `: ${err.message}` : ''}`,
      { cause: err, mayHaveReachedServer: true },
    );
    for (const call of this.#pending.takeAll()) call.fail(reason);
    this.onClose?.(this);
  }
}
