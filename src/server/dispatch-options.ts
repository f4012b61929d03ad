// The Dispatcher's option bag (defaults are applied in dispatch.ts). Types only.
import type { Logger } from '../log.js';
import type { Registry } from '../serializable/index.js';
import type { OpenRpcInfo } from './discover.js';
import type { ServerInterceptor } from '../observe/index.js';

export interface DispatcherOptions {
  /** Revives class-tagged params (default: the default registry). */
  registry?: Registry;
  logger?: Logger;
  /** Send handler stacks to callers in error data (default false: stacks stay in the server log). */
  exposeStack?: boolean;
  /**
   * A RemoteError a handler lets escape (a call it made to another service failed) is answered with
   * its own code, message and data (default true); false answers -32000 as for any other error.
   */
  passRemoteErrors?: boolean;
  /** Answer -32003 when an async handler takes longer (default: no limit). */
  handlerTimeoutMs?: number;
  /** Most messages in one batch (default 100); a larger batch is refused whole. */
  maxBatch?: number;
  /** The info block of the rpc.discover document. */
  openRpcInfo?: OpenRpcInfo;
  /**
   * Routes every valid request here instead of to hosted services (a forwarding bridge): params
   * arrive as wire data, unrevived; the result is replied as returned; a thrown ServiceError keeps
   * its code, anything else becomes -32000. Validation, batches and notifications work as usual.
   */
  forward?: (method: string, params: unknown, isNotification: boolean) => Promise<unknown>;
  /**
   * Run around every valid request, first one outermost (see docs/observability.md): they see the
   * call and its context, and may reject it, change its params or its result. Not for `forward`.
   */
  interceptors?: readonly ServerInterceptor[];
}
