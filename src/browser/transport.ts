// The one interface the browser client's transports share (HTTP POST through fetch, and
// WebSocket), and what a single exchange is given: a signal that fires on the call's timeout or
// its caller's abort, and the time left. Transports carry JSON-RPC wire data (plain JSON values);
// the client encodes and decodes values with the registry.

export interface Exchange {
  /** Aborted when the call times out or its caller aborts; the transport gives up at once. */
  readonly signal: AbortSignal;
  /** What is left of the call's timeout, sent to the server as its deadline. */
  readonly timeoutMs: number;
}

export interface BrowserTransport {
  /**
   * Sends one JSON-RPC message (a request, a notification or a batch of them, as wire data) and
   * resolves with the reply (a response object, an array of them, or a JSON-RPC refusal with id
   * null), or undefined when no reply is due. Rejects with a GawError (ConnectionError,
   * ProtocolError), or with the signal's reason when it fires.
   */
  send(message: unknown, exchange: Exchange): Promise<unknown>;
  /** Closes the transport; later sends reject with GAW_ERR_CLOSED. Idempotent. */
  close(): void;
}

/** Calls the server makes to the page (notifications pushed over a WebSocket). */
export type NotificationListener = (method: string, params: unknown) => void;
