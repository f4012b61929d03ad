// The peer pairs of the instruction-count benchmark, each side in this process with the same
// client: gaw's WebSocket endpoint against a minimal `ws` JSON-RPC server (64 calls in flight on
// one socket), and gaw's httpHandler() in Fastify against a minimal Fastify JSON-RPC route (64
// keep-alive connections). Every call is `plus(1, 2)`, answered 3.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { GawServer } from '../src/index.js';
import { startFastify } from './fastify-peer.js';
import { createNodeHttpServer } from './node-http-peer.js';
import { BenchService, answer } from './workload.js';

type Peer = 'ws-gaw' | 'ws-echo' | 'fastify-gaw' | 'fastify' | 'post-gaw' | 'node-http';
/**
 * Keep-alive connections stay open this long: under callgrind a connection can sit idle for
 * seconds, and a server closing it as the client reuses it fails the run with ECONNRESET.
 */
const idleMs = 10 * 60_000;

interface Opened {
  call: () => Promise<unknown>;
  stop(): Promise<void>;
}

export async function openPeer(peer: Peer): Promise<Opened> {
  if (peer === 'ws-gaw' || peer === 'ws-echo') return openWs(peer === 'ws-gaw');
  if (peer === 'post-gaw') {
    // The bridge's own POST /api, with the HTTP client of the Fastify pair.
    const server = new GawServer({ port: 0, http: { port: 0, keepAliveTimeoutMs: idleMs } }).add(BenchService);
    await server.listen();
    const { call, stop } = httpClient((server.httpAddress as AddressInfo).port);
    return {
      call,
      stop: async () => {
        stop();
        await server.close();
      },
    };
  }
  if (peer === 'node-http') {
    const server = createNodeHttpServer();
    server.keepAliveTimeout = idleMs;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { call, stop } = httpClient((server.address() as AddressInfo).port);
    return {
      call,
      stop: async () => {
        stop();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }
  return openFastify(peer === 'fastify-gaw');
}

/** One socket, requests matched back by id: the same client for both servers. */
async function wsClient(url: string, protocols: string[]): Promise<{ call: () => Promise<unknown>; close(): void }> {
  const socket = new WebSocket(url, protocols);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 1;
  socket.on('message', (data) => {
    const reply = JSON.parse(String(data)) as { id: number; result?: unknown };
    const resolve = pending.get(reply.id);
    pending.delete(reply.id);
    resolve?.(reply.result);
  });
  return {
    call: () =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        socket.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'bench.plus', params: [1, 2] }));
      }),
    close: () => socket.terminate(),
  };
}

async function openWs(isGaw: boolean): Promise<Opened> {
  if (isGaw) {
    const server = new GawServer({ port: 0, http: { port: 0, websocket: true } }).add(BenchService);
    await server.listen();
    const address = server.httpAddress as AddressInfo;
    const client = await wsClient(`ws://127.0.0.1:${address.port}/api`, ['gaw.jsonrpc']);
    return {
      call: client.call,
      stop: async () => {
        client.close();
        await server.close();
      },
    };
  }
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', (socket) => {
    socket.on('message', (data) => socket.send(JSON.stringify(answer(JSON.parse(String(data)) as object))));
  });
  const client = await wsClient(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/api`, []);
  return {
    call: client.call,
    stop: async () => {
      client.close();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}

async function openFastify(isGaw: boolean): Promise<Opened> {
  const app = await startFastify(isGaw, idleMs);
  const { call, stop } = httpClient(app.port);
  return {
    call,
    stop: async () => {
      stop();
      await app.close();
    },
  };
}

/** 64 keep-alive connections posting `plus(1, 2)`: the same client for every HTTP server. */
function httpClient(port: number): { call: () => Promise<unknown>; stop(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'bench.plus', params: [1, 2] });
  const call = () =>
    new Promise<unknown>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/api',
          method: 'POST',
          agent,
          headers: { 'Content-Type': 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve((JSON.parse(Buffer.concat(chunks).toString()) as { result?: unknown }).result));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { call, stop: () => agent.destroy() };
}
