// The service console the bridge serves with `console: true` (--http-console): a static page at
// GET /, its script and style, and the ES modules of gaw/browser under /gaw/ that the script
// imports, all read once when the bridge is made. No build step, nothing from another origin: the
// page carries a Content-Security-Policy that allows only this server. What the page does is in
// console/console.js; the calls it makes go through POST /api like any other client's.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserModules } from './browser-modules.js';

/** The package's console/ folder (this file runs as dist/src/server/http-console.js). */
const consoleDir = fileURLToPath(new URL('../../../console/', import.meta.url));

/** Only this server: scripts, styles and calls; no inline code, no frames, no form posts elsewhere. */
export const consolePolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  type: string;
  body: Buffer;
}

const javascript = 'text/javascript; charset=utf-8';

export class ServiceConsole {
  readonly #assets = new Map<string, Asset>();

  constructor() {
    const read = (name: string): Buffer => readFileSync(path.join(consoleDir, name));
    this.#assets.set('/', { type: 'text/html; charset=utf-8', body: read('index.html') });
    this.#assets.set('/console.js', { type: javascript, body: read('console.js') });
    this.#assets.set('/console.css', { type: 'text/css; charset=utf-8', body: read('console.css') });
    for (const [name, text] of browserModules())
      this.#assets.set(`/gaw/${name}`, { type: javascript, body: Buffer.from(text, 'utf8') });
  }

  /** The paths served (for tests and logs). */
  get paths(): string[] {
    return [...this.#assets.keys()];
  }

  /** Answers `path` when it is one of the console's files; false when it is not (the caller answers 404). */
  handle(req: IncomingMessage, res: ServerResponse, path: string, extraHeaders: Record<string, string>): boolean {
    const asset = this.#assets.get(path === '/index.html' ? '/' : path);
    if (asset === undefined) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0, ...extraHeaders }).end();
      return true;
    }
    res.writeHead(200, {
      'Content-Type': asset.type,
      'Content-Length': asset.body.length,
      'Content-Security-Policy': consolePolicy,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-cache',
      ...extraHeaders,
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
    return true;
  }
}
