// The grpc-js service definition both ends of the gRPC peer share: unary `plus` and `echo` with
// hand-written JSON serializers (params array in, result out), so gRPC carries the same data as
// JSON-RPC does and no protobuf tooling is needed.
import * as grpc from '@grpc/grpc-js';

const serialize = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');
const deserialize = (bytes: Buffer): any => JSON.parse(bytes.toString('utf8'));

function unary(name: string) {
  return {
    path: `/bench.Bench/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
  } as const;
}

export const grpcService = { plus: unary('plus'), echo: unary('echo') } satisfies grpc.ServiceDefinition;

/** The generic client class for `grpcService` (makeGenericClientConstructor, no proto loader). */
export const GrpcBenchClient = grpc.makeGenericClientConstructor(grpcService, 'Bench');
