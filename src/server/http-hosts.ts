// Which `Host` and `Origin` headers POST /api answers, free of sockets: the DNS-rebinding guard
// (a Host must name this server) and the cross-site guard (a browser's Origin must be this server
// or an allowed origin). http-handler.ts applies them to each request.
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';

export interface HostPolicyOptions {
  /**
   * Host names (or `name:port`, `[v6]`, `.example.com` for it and its subdomains) also accepted
   * in `Host`, beyond the address the request arrived at and, on loopback, `localhost`. `'*'`
   * accepts any Host (only behind a proxy that checks it).
   */
  allowedHosts?: readonly string[] | undefined;
  /** Origins (`https://app.example.com`) whose pages may call, beyond this server's own. */
  allowedOrigins?: readonly string[] | undefined;
  /** The name or address the server was bound to (a wildcard address adds nothing). */
  boundHost?: string | undefined;
}

/** The facts of one request the policy looks at. */
export interface RequestSite {
  host: string | undefined;
  origin: string | undefined;
  /** The local address the connection arrived at (`req.socket.localAddress`). */
  localAddress: string | undefined;
  localPort: number | undefined;
}

/** What checkHost() and checkOrigin() read of a request. */
export function siteOf(req: IncomingMessage): RequestSite {
  const { socket, headers } = req;
  return { host: headers.host, origin: headers.origin, localAddress: socket.localAddress, localPort: socket.localPort };
}

const loopbackNames = ['localhost', '127.0.0.1', '[::1]'] as const;
const wildcards = new Set(['', '0.0.0.0', '::', '[::]']);
const maxHeaderChars = 300;
const hostPattern = /^(\[[0-9a-f:.]{2,45}\]|[a-z0-9._-]{1,253})(?::(\d{1,5}))?$/;
const originPattern = /^(https?):\/\/(\[[0-9a-f:.]{2,45}\]|[a-z0-9._-]{1,253})(?::(\d{1,5}))?$/;

/** A host name as compared: lower case, an IPv6 literal in brackets, an IPv4-mapped one as IPv4. */
function normalizeName(name: string): string {
  let lower = name.toLowerCase();
  if (lower.startsWith('[') && lower.endsWith(']')) lower = lower.slice(1, -1);
  if (lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4) return lower.slice(7);
  return isIP(lower) === 6 ? `[${lower}]` : lower;
}

function isLoopback(address: string): boolean {
  return address === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

/** `{ name, port }` of a Host header value, or undefined when it is not a valid one. */
function parseHost(value: string): { name: string; port: number | undefined } | undefined {
  if (value.length > maxHeaderChars) return undefined;
  const match = hostPattern.exec(value.toLowerCase());
  if (match === null) return undefined;
  return { name: normalizeName(match[1]!), port: match[2] === undefined ? undefined : Number(match[2]) };
}

interface AllowedHost {
  name: string;
  port: number | undefined;
  isSuffix: boolean;
}

function parseAllowedHost(entry: unknown): AllowedHost {
  if (typeof entry !== 'string' || entry === '') {
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'allowedHosts entries must be non-empty strings');
  }
  const isSuffix = entry.startsWith('.');
  const parsed = parseHost(isSuffix ? entry.slice(1) : entry);
  if (parsed === undefined) {
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `allowedHosts entry ${JSON.stringify(entry.slice(0, 80))} is not a host name, name:port, [v6] or .domain`,
    );
  }
  return { ...parsed, isSuffix };
}

function parseAllowedOrigin(entry: unknown): string {
  const origin = typeof entry === 'string' ? normalizeOrigin(entry) : undefined;
  if (origin === undefined) {
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `allowedOrigins entry ${JSON.stringify(String(entry).slice(0, 80))} is not an origin such as https://app.example.com`,
    );
  }
  return origin;
}

/** An origin as compared: lower case, default port dropped; undefined when not http(s)://host[:port]. */
export function normalizeOrigin(value: string): string | undefined {
  const parsed = parseOrigin(value);
  if (parsed === undefined) return undefined;
  const isDefault = parsed.port === (parsed.scheme === 'https' ? 443 : 80);
  return `${parsed.scheme}://${parsed.name}${isDefault ? '' : `:${parsed.port}`}`;
}

function parseOrigin(value: string): { scheme: string; name: string; port: number } | undefined {
  if (value.length > maxHeaderChars) return undefined;
  const match = originPattern.exec(value.toLowerCase());
  if (match === null) return undefined;
  const scheme = match[1]!;
  const port = match[3] === undefined ? (scheme === 'https' ? 443 : 80) : Number(match[3]);
  return { scheme, name: normalizeName(match[2]!), port };
}

export class HostPolicy {
  readonly #isAnyHost: boolean;
  readonly #hosts: readonly AllowedHost[];
  readonly #origins: ReadonlySet<string>;
  #lastHost: string | undefined;
  #lastLocal: string | undefined;

  constructor(options: HostPolicyOptions = {}) {
    const entries = options.allowedHosts ?? [];
    if (!Array.isArray(entries)) throw new UsageError('GAW_ERR_INVALID_OPTION', 'allowedHosts must be an array');
    const origins = options.allowedOrigins ?? [];
    if (!Array.isArray(origins)) throw new UsageError('GAW_ERR_INVALID_OPTION', 'allowedOrigins must be an array');
    this.#isAnyHost = entries.includes('*');
    const hosts = entries.filter((entry) => entry !== '*').map(parseAllowedHost);
    const bound = options.boundHost;
    if (bound !== undefined && !wildcards.has(bound)) {
      const parsed = parseHost(isIP(bound) === 6 ? `[${bound}]` : bound);
      if (parsed !== undefined) hosts.push({ name: parsed.name, port: undefined, isSuffix: false });
    }
    this.#hosts = hosts;
    this.#origins = new Set(origins.map(parseAllowedOrigin));
  }

  /** Undefined when `Host` names this server, else why not (for a 421). A missing Host passes. */
  checkHost(site: RequestSite): string | undefined {
    if (site.host === undefined || this.#isAnyHost) return undefined;
    // Keep-alive clients send the same Host again and again: the last accepted pair is remembered.
    if (site.host === this.#lastHost && site.localAddress === this.#lastLocal) return undefined;
    const parsed = parseHost(site.host);
    if (parsed !== undefined && this.#isAllowedName(parsed.name, parsed.port, site.localAddress)) {
      this.#lastHost = site.host;
      this.#lastLocal = site.localAddress;
      return undefined;
    }
    return `the Host ${JSON.stringify(site.host.slice(0, 80))} does not name this server: add it to the allowed hosts (--http-allowed-host) if it should`;
  }

  /**
   * Undefined when there is no `Origin` (not a browser), or it is an allowed origin, or it is this
   * server: an allowed host name on the port the request was sent to. Else why not (for a 403).
   */
  checkOrigin(site: RequestSite): string | undefined {
    if (site.origin === undefined) return undefined;
    const refusal = `requests from the web origin ${JSON.stringify(site.origin.slice(0, 80))} are not allowed`;
    const normalized = normalizeOrigin(site.origin);
    if (normalized === undefined) return refusal;
    if (this.#origins.has(normalized)) return undefined;
    const origin = parseOrigin(site.origin)!;
    const host = site.host === undefined ? undefined : parseHost(site.host);
    const requestPort =
      site.host === undefined ? site.localPort : (host?.port ?? (origin.scheme === 'https' ? 443 : 80));
    if (origin.port !== requestPort) return refusal;
    if (!this.#isAnyHost && !this.#isAllowedName(origin.name, origin.port, site.localAddress)) return refusal;
    if (this.#isAnyHost && host?.name !== origin.name) return refusal;
    return undefined;
  }

  #isAllowedName(name: string, port: number | undefined, localAddress: string | undefined): boolean {
    if (localAddress !== undefined) {
      const local = normalizeName(localAddress);
      if (name === local) return true;
      if (isLoopback(local) && (loopbackNames as readonly string[]).includes(name)) return true;
    }
    for (const allowed of this.#hosts) {
      if (allowed.port !== undefined && allowed.port !== port) continue;
      if (name === allowed.name || (allowed.isSuffix && name.endsWith(`.${allowed.name}`))) return true;
    }
    return false;
  }
}
