// Shared by the WebSocket tests: a small JSON-RPC client over a real `ws` WebSocket that matches
// replies by id, keeps pushed notifications, and reports how the socket closed; and the HTTP
// refusal an upgrade got instead of a WebSocket.
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { track } from '../helpers/cleanup.js';

export interface Closed {
  code: number;
  reason: string;
}

export interface Refusal {
  status: number;
  body: string;
  headers: IncomingMessage['headers'];
}

export interface OpenOptions {
  protocols?: string[];
  headers?: Record<string, string>;
  origin?: string;
  maxPayload?: number;
}

export class WsRpc {
  readonly ws: WebSocket;
  readonly notifications: Record<string, unknown>[] = [];
  readonly closed: Promise<Closed>;
  readonly #pending = new Map<unknown, (reply: Record<string, unknown>) => void>();
  readonly #waiters: (() => void)[] = [];
  /** Replies with no waiting call (id null, or an unknown id). */
  readonly strays: unknown[] = [];
  #nextId = 1;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    const forget = track(() => ws.terminate());
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        forget();
        resolve({ code, reason: reason.toString() });
      });
    });
    ws.on('error', () => {});
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Record<string, unknown> | Record<string, unknown>[];
      const first = Array.isArray(message) ? message[0] : message;
      if (!Array.isArray(message) && message.id === undefined) {
        this.notifications.push(message);
        for (const wake of this.#waiters.splice(0)) wake();
        return;
      }
      const key = Array.isArray(message) ? `batch:${String(first?.id)}` : message.id;
      const resolve = this.#pending.get(key);
      if (resolve === undefined) this.strays.push(message);
      else {
        this.#pending.delete(key);
        resolve(message as Record<string, unknown>);
      }
    });
  }

  /** Opens a socket; rejects with the Refusal when the server answers the upgrade with HTTP. */
  static open(url: string, options: OpenOptions = {}): Promise<WsRpc> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options.protocols ?? ['gaw.jsonrpc'], {
        headers: options.headers,
        ...(options.origin !== undefined && { origin: options.origin }),
        ...(options.maxPayload !== undefined && { maxPayload: options.maxPayload }),
      });
      ws.once('open', () => resolve(new WsRpc(ws)));
      ws.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          reject({ status: res.statusCode, body: Buffer.concat(chunks).toString(), headers: res.headers }),
        );
        res.on('error', () => {});
      });
      ws.once('error', (err) => reject(err));
    });
  }

  /** Sends a request and resolves with its reply object. */
  call(method: string, params?: unknown, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return this.request({ jsonrpc: '2.0', id, method, ...(params !== undefined && { params }), ...extra });
  }

  /** Sends one request object (with its own id) and resolves with the reply. */
  request(message: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.#pending.set(message.id, resolve);
      this.ws.send(JSON.stringify(message));
    });
  }

  /** Sends a batch; resolves with the reply array (keyed by the first element's id). */
  batch(messages: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
    return new Promise((resolve) => {
      this.#pending.set(`batch:${String(messages.find((m) => m.id !== undefined)?.id)}`, resolve as never);
      this.ws.send(JSON.stringify(messages));
    });
  }

  notify(method: string, params?: unknown): void {
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', method, ...(params !== undefined && { params }) }));
  }

  /** Resolves once `count` notifications have arrived in all. */
  async notificationCount(count: number): Promise<void> {
    while (this.notifications.length < count) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  close(): Promise<Closed> {
    this.ws.close();
    return this.closed;
  }
}

/** The refusal an upgrade gets (fails when a WebSocket opens instead). */
export async function refusalOf(url: string, options: OpenOptions = {}): Promise<Refusal> {
  try {
    const rpc = await WsRpc.open(url, options);
    await rpc.close();
  } catch (err) {
    if (typeof (err as Refusal).status === 'number') return err as Refusal;
    throw err;
  }
  throw new Error('the upgrade was accepted');
}
