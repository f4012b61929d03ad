// The streams open on one client connection (the stream extension): which receiver each item goes
// to, the first sign of life of each (its first item or its end, which is when it can no longer be
// retried), and the ids of streams this client cancelled, whose items still in flight are dropped.
// Any other item is the server breaking the protocol. No sockets, no timers (rpc-connection.ts).
import { ProtocolError } from '../errors.js';
import type { GawError } from '../errors.js';
import { creditEntry } from '../postoffice/index.js';
import type { Connection } from '../postoffice/index.js';
import type { Outcome } from './transport.js';

const noHead = Buffer.alloc(0);

/** What a stream's caller gives the connection for one try: where its items and its end go. */
export interface StreamReceiver {
  /** A try starts on a connection: `link` grants credit and cancels; credit starts again at the window. */
  attach(link: StreamLink): void;
  /** One item's bytes (a view valid only now); an error when it breaks the rules (beyond credit, undecodable). */
  item(bytes: Buffer): GawError | undefined;
  /** The stream's response arrived after items, or the connection failed after items. */
  end(outcome: Outcome | Error): void;
}

export interface StreamLink {
  /** Lets the server send `credit` more items. */
  credit(credit: number): void;
  /** Stops the stream (the server is sent a CANCEL); nothing more reaches the receiver. */
  cancel(): void;
}

interface Open {
  receiver: StreamReceiver;
  hasItem: boolean;
  /** Settles the try's first sign of life: undefined once an item arrived, or the outcome / error of a stream with none. */
  first: { resolve(outcome: Outcome | undefined): void; reject(err: unknown): void };
}

/** Most cancelled stream ids remembered (their late items are dropped); older ones are forgotten. */
const maxCancelled = 1024;

export class StreamTable {
  readonly #open = new Map<number, Open>();
  readonly #cancelled = new Set<number>();

  get size(): number {
    return this.#open.size;
  }

  /** Registers stream `id`; resolves at its first item (undefined) or with its outcome, rejects when it fails first. */
  add(
    id: number,
    receiver: StreamReceiver,
    outcome: Promise<Outcome>,
    connection: Connection,
    cancel: () => void,
  ): Promise<Outcome | undefined> {
    const first = new Promise<Outcome | undefined>((resolve, reject) => {
      this.#open.set(id, { receiver, hasItem: false, first: { resolve, reject } });
    });
    receiver.attach({
      credit: (credit) => {
        try {
          connection.send(creditEntry(id, credit), noHead);
        } catch {
          // The connection is going: the stream ends with it.
        }
      },
      cancel,
    });
    outcome.then(
      (settled) => this.#end(id, settled),
      (err: unknown) => this.#end(id, err instanceof Error ? err : new Error(String(err))),
    );
    return first;
  }

  /** An item arrived; an error when the connection must go (the server broke the protocol). */
  item(id: number, bytes: Buffer): GawError | undefined {
    const open = this.#open.get(id);
    if (open === undefined) {
      if (this.#cancelled.has(id)) return undefined;
      return new ProtocolError('GAW_ERR_BAD_FRAME', `bad stream entry: an item for stream ${id}, which is not open`);
    }
    const problem = open.receiver.item(bytes);
    if (problem !== undefined) return problem;
    if (!open.hasItem) {
      open.hasItem = true;
      open.first.resolve(undefined);
    }
    return undefined;
  }

  /** The caller gave up on stream `id` (break, abort, deadline): its late items are dropped. */
  cancel(id: number): void {
    const open = this.#open.get(id);
    if (open === undefined) return;
    this.#open.delete(id);
    // Given up on before any sign of life: the try is over, and nothing more comes of it.
    open.first.resolve(undefined);
    if (this.#cancelled.size >= maxCancelled) this.#cancelled.delete(this.#cancelled.values().next().value as number);
    this.#cancelled.add(id);
  }

  #end(id: number, settled: Outcome | Error): void {
    const open = this.#open.get(id);
    if (open === undefined) return;
    this.#open.delete(id);
    if (open.hasItem) open.receiver.end(settled);
    else if (settled instanceof Error) open.first.reject(settled);
    else open.first.resolve(settled);
  }
}
