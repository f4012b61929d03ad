// A served connection's maximum age (GawServerOptions.maxConnectionAgeMs, gRPC's
// max_connection_age): past it (±10%, so connections opened together do not all go at once) the
// server sends CLOSE, so the client moves new calls to a fresh connection, perhaps to a new worker
// or instance, while the calls already received finish; past closeTimeoutMs more, it is destroyed.
import type { ServedConnection } from './served-connection.js';

export function retireAtAge(served: ServedConnection, maxAgeMs: number, graceMs: number): void {
  if (maxAgeMs === 0) return;
  const { connection } = served;
  let grace: NodeJS.Timeout | undefined;
  const aged = setTimeout(
    () => {
      served.beginClose();
      grace = setTimeout(() => connection.destroy(), graceMs).unref();
    },
    maxAgeMs * (0.9 + Math.random() / 5),
  ).unref();
  connection.once('close', () => {
    clearTimeout(aged);
    clearTimeout(grace);
  });
}
