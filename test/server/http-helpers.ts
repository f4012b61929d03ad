// Shared by the HTTP bridge tests: a bridge in front of a Dispatcher on 127.0.0.1 port 0, and a
// small HTTP client on node:http that returns status, headers and body text.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { Dispatcher } from '../../src/server/dispatch.js';
import type { DispatcherOptions } from '../../src/server/dispatch.js';
import { HttpBridge } from '../../src/server/http-bridge.js';
import type { HttpBridgeOptions } from '../../src/server/http-bridge.js';

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  socketId: unknown;
}

export interface RequestOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  agent?: http.Agent | false;
}

const socketIds = new WeakMap<object, number>();
let nextSocketId = 0;

export function request(port: number, options: RequestOptions = {}): Promise<HttpReply> {
  const { method = 'POST', path = '/api', headers = {}, body, agent = false } = options;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      const socket = res.socket;
      if (!socketIds.has(socket)) socketIds.set(socket, nextSocketId++);
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          socketId: socketIds.get(socket),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const json = { 'Content-Type': 'application/json' } as const;

/** POSTs a JSON-RPC body to /api with the JSON content type. */
export function postJson(port: number, body: unknown, extra: RequestOptions = {}): Promise<HttpReply> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return request(port, { ...extra, headers: { ...json, ...extra.headers }, body: text });
}

/** A listening bridge in front of a new Dispatcher hosting `services`. */
export async function startBridge(
  services: (new (...args: any[]) => any)[],
  options: Omit<HttpBridgeOptions, 'dispatch'> & {
    dispatcher?: DispatcherOptions;
    dispatch?: HttpBridgeOptions['dispatch'];
  } = {},
): Promise<{ bridge: HttpBridge; port: number; dispatcher: Dispatcher }> {
  const dispatcher = new Dispatcher(options.dispatcher);
  for (const cls of services) dispatcher.add(cls);
  const bridge = new HttpBridge({
    ...options,
    dispatch: options.dispatch ?? ((message) => dispatcher.dispatch(message)),
  });
  await bridge.listen();
  return { bridge, port: bridge.address.port, dispatcher };
}

/**
 * Asserts an HTTP-level refusal: the status, and a JSON-RPC error body with id null, the given
 * code, a message matching `message` and the status in `data.httpStatus`.
 */
export function assertRefusal(reply: HttpReply, status: number, code: number, message: RegExp): void {
  assert.equal(reply.status, status, `status of ${reply.body.slice(0, 120)}`);
  assert.equal(reply.headers['content-type'], 'application/json');
  const parsed = JSON.parse(reply.body) as { jsonrpc: string; id: unknown; error: Record<string, unknown> };
  assert.equal(parsed.jsonrpc, '2.0');
  assert.equal(parsed.id, null);
  assert.equal(parsed.error.code, code);
  assert.match(String(parsed.error.message), message);
  assert.deepEqual(parsed.error.data, { httpStatus: status });
}
