// The browser client's HTTP transport: each message is one `POST` to the bridge's /api with
// fetch, the bearer token in `Authorization`, the call's remaining time in `Gaw-Timeout-Ms`, no
// cookies (`credentials: 'omit'`), and the caller's abort passed to fetch. Cross-origin pages need
// the bridge's CORS list (--http-cors-origin). No server push: use the WebSocket transport for that.
import { ConnectionError, ProtocolError, UsageError } from '../errors.js';
import type { BrowserTransport, Exchange } from './transport.js';

export class HttpTransport implements BrowserTransport {
  readonly #url: string;
  readonly #token: string | undefined;
  #isClosed = false;

  constructor(url: string, token: string | undefined) {
    this.#url = url;
    this.#token = token;
  }

  async send(message: unknown, exchange: Exchange): Promise<unknown> {
    if (this.#isClosed) throw new UsageError('GAW_ERR_CLOSED', 'the client is closed');
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Gaw-Timeout-Ms': String(Math.max(0, Math.floor(exchange.timeoutMs))),
    };
    if (this.#token !== undefined) headers.Authorization = `Bearer ${this.#token}`;
    let response: Response;
    try {
      response = await fetch(this.#url, {
        method: 'POST',
        headers,
        body: JSON.stringify(message),
        signal: exchange.signal,
        credentials: 'omit',
      });
    } catch (err) {
      if (exchange.signal.aborted) throw exchange.signal.reason;
      // fetch says only "Failed to fetch": refused, unreachable, or a CORS refusal (see the console).
      throw new ConnectionError('GAW_ERR_CONN_REFUSED', `POST ${this.#url} failed (unreachable, or refused by CORS)`, {
        cause: err,
      });
    }
    if (response.status === 204) return undefined;
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      if (exchange.signal.aborted) throw exchange.signal.reason;
      throw new ConnectionError('GAW_ERR_CONN_CLOSED', `the reply to POST ${this.#url} was cut off`, { cause: err });
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ProtocolError(
        'GAW_ERR_BAD_RESPONSE',
        `the reply to POST ${this.#url} (HTTP ${response.status}) is not JSON: is this a gaw bridge?`,
        { cause: err },
      );
    }
  }

  close(): void {
    this.#isClosed = true;
  }
}
