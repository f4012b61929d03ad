// The POST /api handler mounted the ways the docs show: in a plain node:http server, in Express
// (with or without express.json() in front), in Fastify (raw request and reply, no body parsing)
// and in Koa (ctx.respond = false). Each listens on 127.0.0.1 port 0; Express's error middleware
// and Koa's 'error' event record what reaches them.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import type { HttpRequestHandler } from '../../src/server/index.js';

export interface Mounted {
  name: string;
  port: number;
  close(): Promise<void>;
  /** Errors Express passed to its error middleware, or Koa emitted (always empty for the others). */
  errorsSeen: unknown[];
}

export type MountName = 'node:http' | 'express' | 'express+json' | 'fastify' | 'koa';
export const mountNames: readonly MountName[] = ['node:http', 'express', 'express+json', 'fastify', 'koa'];

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

export async function mount(name: MountName, handler: HttpRequestHandler): Promise<Mounted> {
  const errorsSeen: unknown[] = [];
  if (name === 'node:http') {
    const server = http.createServer((req, res) => {
      if (req.url === '/api' || req.url?.startsWith('/api?')) handler(req, res);
      else res.writeHead(404).end();
    });
    return { name, port: await listen(server), close: () => closeServer(server), errorsSeen };
  }
  if (name === 'fastify') {
    const app = Fastify();
    // In the route's onRequest hook, before Fastify parses anything: the handler reads the body.
    app.all('/api', { onRequest: (request, reply) => void handler(request.raw, reply.hijack().raw) }, () => {});
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    return { name, port, close: () => app.close(), errorsSeen };
  }
  if (name === 'koa') {
    const app = new Koa();
    app.on('error', (err: unknown) => errorsSeen.push(err));
    app.use(async (ctx, next) => {
      if (ctx.path !== '/api') return next();
      // Koa must not answer for it: the handler writes the raw response itself.
      ctx.respond = false;
      handler(ctx.req, ctx.res);
    });
    const server = http.createServer(app.callback());
    return { name, port: await listen(server), close: () => closeServer(server), errorsSeen };
  }
  const app = express();
  if (name === 'express+json') app.use(express.json({ limit: '10mb' }));
  app.all('/api', handler);
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    errorsSeen.push(err);
    res.status(599).end('express error middleware');
  });
  const server = http.createServer(app);
  return { name, port: await listen(server), close: () => closeServer(server), errorsSeen };
}
