// Builds the OpenRPC document served by the built-in `rpc.discover`: every hosted service's
// methods with their parameter names. Descriptive only; knows nothing of dispatch or the wire.
import type { ServiceDescription } from './service.js';

/** The `info` block of the OpenRPC document. */
export interface OpenRpcInfo {
  title?: string;
  version?: string;
}

interface ContentDescriptor {
  name: string;
  required: boolean;
  schema: Record<string, unknown>;
  description?: string;
  'x-gaw-rest'?: true;
}

/** The OpenRPC 1.2.6 document for `services`; method names are "service.method". */
export function buildOpenRpcDocument(services: readonly ServiceDescription[], info: OpenRpcInfo = {}): object {
  const methods: object[] = [];
  for (const svc of services) {
    for (const method of svc.methods.values()) {
      const params: ContentDescriptor[] = method.params.map((name, i) => ({
        name,
        required: !method.isOptional[i],
        schema: {},
      }));
      if (method.restParam !== undefined) {
        params.push({
          name: method.restParam,
          required: false,
          schema: {},
          description: 'rest parameter: takes any number of further positional values',
          'x-gaw-rest': true,
        });
      }
      methods.push({
        name: `${svc.name}.${method.name}`,
        tags: [{ name: svc.name }],
        paramStructure: 'either',
        params,
        result: { name: 'result', schema: {} },
      });
    }
  }
  return deepFreeze({
    openrpc: '1.2.6',
    info: { title: info.title ?? 'gaw services', version: info.version ?? '1.0.0' },
    methods,
    'x-gaw-services': services.map((svc) => ({
      name: svc.name,
      shared: svc.isShared,
      methods: [...svc.methods.keys()],
    })),
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
