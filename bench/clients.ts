// The load generator's side of every stack: opens a client of one kind against a server's port
// and returns `call(i)`, which makes call number i and checks its result. gaw goes through its
// public client (typed proxy); peers through their stock clients; connection set-up through dial.
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import jayson from 'jayson';
import { GawClient, KeyRing } from '../src/index.js';
import type { CodecName, SuiteName } from '../src/index.js';
import { dial } from '../src/postoffice/index.js';
import { benchSecret } from './child.js';
import { GrpcBenchClient } from './grpc-service.js';
import { HttpLoadClient } from './http-load.js';
import { LimitClient } from './limit-wire.js';
import { type BenchService, WrongResultError, workloads } from './workload.js';
import type { PayloadName } from './workload.js';

export type LoadKind = 'gaw' | 'limit' | 'jayson-tcp' | 'grpc' | 'http' | 'handshake' | 'tcp-connect';

export interface LoadSpec {
  kind: LoadKind;
  payload: PayloadName;
  inFlight: number;
  /** gaw: the suite and codec; poolSize 1 keeps every call on one connection. */
  suite?: SuiteName;
  codec?: CodecName;
  poolSize?: number;
  /** http: keep-alive connections (default inFlight). */
  connections?: number;
  /** handshake: offer X25519 forward secrecy. */
  hasForwardSecrecy?: boolean;
  /** gaw: offer the call-context extension (default true). */
  callContext?: boolean;
}

export interface LoadClient {
  call(i: number): Promise<unknown>;
  close(): Promise<void> | void;
}

function checked(what: string, payload: PayloadName, i: number, result: unknown): unknown {
  if (!workloads[payload].isRight(i, result)) throw new WrongResultError(what);
  return result;
}

function psk(): Buffer {
  return new KeyRing(benchSecret()).get(0)!;
}

export async function openClient(spec: LoadSpec, port: number): Promise<LoadClient> {
  const work = workloads[spec.payload];
  const method = `bench.${work.method}`;
  switch (spec.kind) {
    case 'gaw': {
      const suite = spec.suite ?? 'none';
      const client = new GawClient({
        host: '127.0.0.1',
        port,
        ...(suite !== 'none' && { secret: benchSecret(), suite }),
        codec: spec.codec ?? 'json',
        poolSize: spec.poolSize ?? 1,
        retries: 0,
        callContext: spec.callContext ?? true,
      });
      const bench = client.service<BenchService>('bench');
      const invoke =
        work.method === 'plus'
          ? (i: number) => bench.plus(...(work.params(i) as [number, number]))
          : (i: number) => bench.echo(...(work.params(i) as [string]));
      return {
        call: (i) => invoke(i).then((r) => checked('gaw', spec.payload, i, r)),
        close: () => client.close(),
      };
    }
    case 'limit': {
      const client = await LimitClient.open(port);
      return {
        call: (i) => client.call(method, work.params(i)).then((r) => checked('limit', spec.payload, i, r)),
        close: () => client.close(),
      };
    }
    case 'jayson-tcp': {
      const client = jayson.Client.tcp({ host: '127.0.0.1', port });
      return {
        call: (i) =>
          new Promise((resolve, reject) => {
            client.request(
              method,
              work.params(i),
              (
                err: { message: string } | null | undefined,
                response?: { result?: unknown; error?: { message: string } },
              ) => {
                if (err) reject(new Error(`jayson: ${err.message}`));
                else if (response?.error) reject(new Error(response.error.message));
                else resolve(checked('jayson', spec.payload, i, response?.result));
              },
            );
          }),
        close: () => {},
      };
    }
    case 'grpc': {
      const client = new GrpcBenchClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Record<
        string,
        (request: unknown, done: (err: Error | null, result: unknown) => void) => void
      > & { close(): void };
      return {
        call: (i) =>
          new Promise((resolve, reject) => {
            client[work.method]!(work.params(i), (err, result) =>
              err ? reject(err) : resolve(checked('grpc', spec.payload, i, result)),
            );
          }),
        close: () => client.close(),
      };
    }
    case 'http': {
      const client = await HttpLoadClient.open(port, spec.connections ?? spec.inFlight);
      return {
        call: async (i) => {
          const body = await client.post(JSON.stringify({ jsonrpc: '2.0', id: i, method, params: work.params(i) }));
          const reply = JSON.parse(body.toString('utf8')) as {
            id: unknown;
            result?: unknown;
            error?: { message: string };
          };
          if (reply.error !== undefined) throw new Error(reply.error.message);
          if (reply.id !== i) throw new WrongResultError('http (id)');
          return checked('http', spec.payload, i, reply.result);
        },
        close: () => client.close(),
      };
    }
    case 'handshake': {
      const suite = spec.suite ?? 'sign';
      const key = suite === 'none' ? undefined : psk();
      return {
        call: async () => {
          const connection = await dial({
            host: '127.0.0.1',
            port,
            suite,
            psk: key,
            forwardSecrecy: spec.hasForwardSecrecy ?? true,
          });
          await connection.close();
        },
        close: () => {},
      };
    }
    case 'tcp-connect':
      // Closed the way a gaw connection closes (FIN both ways): a socket destroyed at once was seen
      // to stall some later connects for a whole second (a SYN retransmission) on this kernel.
      return {
        call: () =>
          new Promise<void>((resolve, reject) => {
            const socket = connect({ host: '127.0.0.1', port }, () => {
              socket.once('close', () => resolve());
              socket.resume();
              socket.end();
            });
            socket.once('error', reject);
          }),
        close: () => {},
      };
    default:
      throw new Error(`unknown load kind ${String(spec.kind)}`);
  }
}
