// What every benchmarked server serves and every load generator asks: `plus(a, b)` (the tiny
// call) and `echo(s)` with a 16 KiB string, under the same names on every stack, plus the check
// that a reply is right. Knows nothing of transports.

export type PayloadName = 'tiny' | '16k';

/** 16 KiB of printable ASCII with nothing JSON must escape: the same bytes for every peer. */
export const echoText: string = (() => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-_+=()[]{}<>!?@#$%^&*~';
  let text = '';
  for (let i = 0; text.length < 16 * 1024; i++) text += alphabet[(i * 7 + (i >> 5)) % alphabet.length];
  return text;
})();

/** The service gaw hosts: `bench.plus`, `bench.echo` (plain-JavaScript form, a new instance per call: the default). */
export class BenchService {
  static serviceName = 'bench';
  static entrypoints = ['plus', 'echo'];
  plus(a: number, b: number): number {
    return a + b;
  }
  echo(s: string): string {
    return s;
  }
}

/** The method name and params of call number `i`; and the check of its result. */
export interface Workload {
  method: 'plus' | 'echo';
  params(i: number): [number, number] | [string];
  isRight(i: number, result: unknown): boolean;
}

export const workloads: Record<PayloadName, Workload> = {
  tiny: {
    method: 'plus',
    params: (i) => [i & 0xffff, 2],
    isRight: (i, result) => result === (i & 0xffff) + 2,
  },
  '16k': {
    method: 'echo',
    params: () => [echoText],
    isRight: (_i, result) => typeof result === 'string' && result.length === echoText.length,
  },
};

/** The plain JSON-RPC handling the framework-free servers share: one request object -> reply object. */
export function answer(request: { id?: unknown; method?: unknown; params?: unknown }): object {
  const params = request.params as unknown[];
  const method = typeof request.method === 'string' ? request.method.replace(/^bench\./, '') : '';
  if (method === 'plus' && Array.isArray(params))
    return { jsonrpc: '2.0', id: request.id, result: (params[0] as number) + (params[1] as number) };
  if (method === 'echo' && Array.isArray(params)) return { jsonrpc: '2.0', id: request.id, result: params[0] };
  return { jsonrpc: '2.0', id: request.id ?? null, error: { code: -32601, message: 'Method not found' } };
}

export class WrongResultError extends Error {
  constructor(what: string) {
    super(`wrong result from ${what}`);
  }
}
