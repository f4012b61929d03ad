// Whether an ejected endpoint answers again: a usable connection to it (dialed if none is open)
// and an rpc.ping answered on it, all within one bound. The balancer (balancer.ts) decides what an
// answer means; this only asks. A ping that goes unanswered is forgotten, never left pending.
import type { EndpointPool } from './pool.js';
import type { RpcConnection } from './rpc-connection.js';

/** True when the endpoint gave a connection and answered rpc.ping on it within `timeoutMs`. */
export async function probeEndpoint(pool: EndpointPool, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs).unref();
  });
  let rpc: RpcConnection | undefined;
  let pingId: number | undefined;
  try {
    rpc = await Promise.race([pool.acquire(), expired]);
    if (rpc === undefined) return false;
    const ping = rpc.request('rpc.ping', undefined);
    pingId = ping.id;
    const outcome = await Promise.race([ping.outcome, expired]);
    pingId = outcome === undefined ? pingId : undefined;
    // Any reply, even an error object, is the server reading and answering on this connection.
    return outcome !== undefined;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    if (rpc !== undefined && pingId !== undefined) rpc.cancel(pingId);
  }
}
