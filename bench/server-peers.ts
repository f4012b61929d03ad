// Child process: one of the servers gaw is compared with, serving the same `bench.plus` and
// `bench.echo`: the framework-free limit (length-prefixed JSON-RPC on net), a minimal node:http
// JSON-RPC handler, jayson (TCP or HTTP), @grpc/grpc-js (unary, JSON serializers, no protobuf), and
// Fastify twice: a minimal JSON-RPC route, and gaw's server.httpHandler() mounted in it.
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import jayson from 'jayson';
import { childArgs, listenToParent, tell } from './child.js';
import { grpcService } from './grpc-service.js';
import { createLimitServer } from './limit-wire.js';
import { startFastify } from './fastify-peer.js';
import { createNodeHttpServer } from './node-http-peer.js';
import { answer } from './workload.js';

export type PeerServerKind = 'limit' | 'node-http' | 'jayson-tcp' | 'jayson-http' | 'grpc' | 'fastify' | 'fastify-gaw';

const { kind } = childArgs<{ kind: PeerServerKind }>();

function listenOn(server: {
  listen(port: number, host: string, cb: () => void): unknown;
  address(): unknown;
}): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function jaysonMethods() {
  return {
    'bench.plus': (params: number[], done: (err: null, result: number) => void) => done(null, params[0]! + params[1]!),
    'bench.echo': (params: string[], done: (err: null, result: string) => void) => done(null, params[0]!),
  };
}

async function start(): Promise<{ port: number; close(): void }> {
  switch (kind) {
    case 'limit': {
      const server = createLimitServer();
      return { port: await listenOn(server), close: () => server.close() };
    }
    case 'node-http': {
      const server = createNodeHttpServer();
      return { port: await listenOn(server), close: () => server.close() };
    }
    case 'jayson-tcp': {
      const server = new jayson.Server(jaysonMethods()).tcp();
      return { port: await listenOn(server), close: () => server.close() };
    }
    case 'jayson-http': {
      const server = new jayson.Server(jaysonMethods()).http();
      return { port: await listenOn(server), close: () => server.close() };
    }
    case 'grpc': {
      const server = new grpc.Server();
      server.addService(grpcService, {
        plus: (call: grpc.ServerUnaryCall<number[], number>, done: grpc.sendUnaryData<number>) =>
          done(null, call.request[0]! + call.request[1]!),
        echo: (call: grpc.ServerUnaryCall<string[], string>, done: grpc.sendUnaryData<string>) =>
          done(null, call.request[0]!),
      });
      const port = await new Promise<number>((resolve, reject) => {
        server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) =>
          err ? reject(err) : resolve(bound),
        );
      });
      return { port, close: () => server.forceShutdown() };
    }
    case 'fastify':
    case 'fastify-gaw':
      return startFastify(kind === 'fastify-gaw').then(({ port, close }) => ({ port, close: () => void close() }));
    default:
      throw new Error(`unknown peer server ${String(kind)}`);
  }
}

const server = await start();
listenToParent({ cpu: () => tell({ type: 'cpu', ...process.cpuUsage() }) }, () => server.close());
tell({ type: 'ready', port: server.port });
