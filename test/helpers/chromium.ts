// Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core
// (never a downloaded browser), launched without a sandbox or background traffic; and a second
// origin that serves a blank page with the compiled modules of gaw/browser under /gaw/, as a
// page's own server would. Tests skip with one line naming the package when chromium is absent.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { browserModules } from '../../src/server/browser-modules.js';
import { findEngine } from './engines.js';

export const chromium = findEngine('/usr/bin/chromium', 'chromium');

export async function launchChromium(): Promise<Browser> {
  const { chromium: launcher } = await import('playwright-core');
  return launcher.launch({
    executablePath: chromium.engine!.path,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking'],
  });
}

export interface PageServer {
  server: Server;
  /** `http://localhost:<port>`: another origin than a bridge on 127.0.0.1. */
  origin: string;
  close(): void;
}

/** A blank page at / and gaw/browser's modules under /gaw/, on an origin of its own. */
export function startPageServer(): Promise<PageServer> {
  const modules = browserModules();
  const server = createServer((req, res) => {
    const text = req.url?.startsWith('/gaw/') ? modules.get(req.url.slice(5)) : undefined;
    if (req.url === '/') res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>page</title>');
    else if (text !== undefined) res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(text);
    else res.writeHead(404).end();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        // localhost and 127.0.0.1 are different origins: the page is cross-site to the bridge.
        origin: `http://localhost:${(server.address() as AddressInfo).port}`,
        close: () => {
          server.closeAllConnections();
          server.close();
        },
      }),
    ),
  );
}
