// The minimal node:http JSON-RPC handler the HTTP bridge is compared with, for the wall-clock and
// the instruction benches alike: POST /api, one JSON object, its chunks concatenated, JSON.parse,
// answer(), JSON.stringify, one writeHead and end. No checks beyond the method and path.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { answer } from './workload.js';

export function createNodeHttpServer(): Server {
  return createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/api') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: string;
      try {
        body = JSON.stringify(answer(JSON.parse(Buffer.concat(chunks).toString('utf8')) as object));
      } catch {
        body = '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}';
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
}
