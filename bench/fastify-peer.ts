// Fastify as the benches serve it: a minimal JSON-RPC route (its own JSON parsing), or gaw's
// server.httpHandler() mounted raw in the route's onRequest hook, before Fastify parses anything
// (the handler reads the body under its own cap). Listening on 127.0.0.1, a free port.
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { GawServer } from '../src/index.js';
import { BenchService, answer } from './workload.js';

export async function startFastify(
  isGaw: boolean,
  keepAliveTimeout?: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const app = Fastify(keepAliveTimeout === undefined ? {} : { keepAliveTimeout });
  if (isGaw) {
    const handler = new GawServer({ port: 0 }).add(BenchService).httpHandler();
    app.all('/api', { onRequest: (request, reply) => void handler(request.raw, reply.hijack().raw) }, () => {});
  } else {
    app.post('/api', (request, reply) => {
      reply.send(answer(request.body as object));
    });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}
