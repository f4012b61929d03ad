// A server's side of the registry: registers one record for the address it serves (every hosted
// service under it), heartbeats every heartbeatMs ±10% (each beat also reaps up to 64 dead
// peers), registers again in full after any reconnect or a `GONE` beat (reaped while cut off, or
// Redis restarted empty), and on graceful stop publishes drain, then deregisters. Redis down or
// hung never touches serving: every failure is logged and retried on the next beat.
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import { connectRedis } from '../redis/index.js';
import type { RedisLink } from '../redis/index.js';
import type { ResolvedDiscovery } from './options.js';
import { isServiceName, parseAddress } from './record.js';
import type { InstanceRecord } from './record.js';
import { deregisterScript, heartbeatScript, registerScript, registryKeys, scriptKeys } from './scripts.js';

const reapBatch = 64;

export interface AnnouncedServer {
  /** The address the server is bound to. */
  readonly host: string;
  readonly port: number;
  readonly services: readonly string[];
  readonly suites: readonly string[];
  readonly codecs: readonly string[];
  readonly keyId: number;
  readonly version?: string;
}

/** The address to register: `advertise`, else the bound one unless it is a wildcard (then an error naming the flag). */
export function advertisedAddress(options: ResolvedDiscovery, host: string, port: number): string {
  if (options.advertise !== undefined) {
    if (parseAddress(options.advertise) === undefined)
      throw new UsageError(
        'GAW_ERR_INVALID_OPTION',
        `advertise ${JSON.stringify(String(options.advertise).slice(0, 100))} is not a routable host:port (--advertise)`,
      );
    return options.advertise;
  }
  const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  if (parseAddress(addr) === undefined)
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `the server listens on ${addr}, which clients cannot dial: set --advertise host:port (the discovery option advertise) to register with the registry`,
    );
  return addr;
}

export class Announcer {
  readonly id = randomBytes(16).toString('base64url');
  readonly #options: ResolvedDiscovery;
  readonly #keys;
  readonly #record: InstanceRecord;
  #link: RedisLink | undefined;
  #timer: NodeJS.Timeout | undefined;
  #isDraining = false;
  #isStopped = false;
  #isRegistered = false;
  #beating: Promise<void> | undefined;
  /** Beats that found the registration gone, for tests and metrics. */
  goneCount = 0;

  constructor(options: ResolvedDiscovery, server: AnnouncedServer) {
    this.#options = options;
    this.#keys = registryKeys(options.namespace);
    const services = server.services.filter(isServiceName);
    this.#record = {
      v: 1,
      id: this.id,
      addr: advertisedAddress(options, server.host, server.port),
      services,
      suites: [...server.suites],
      codecs: [...server.codecs],
      keyId: server.keyId,
      workers: options.workers,
      weight: options.weight,
      zone: options.zone,
      version: server.version,
      draining: false,
    };
  }

  get address(): string {
    return this.#record.addr;
  }

  /** True once a registration succeeded and no beat has found it gone since. */
  get isRegistered(): boolean {
    return this.#isRegistered;
  }

  /** Connects and registers (waiting at most one command timeout); keeps trying in the background. */
  async start(): Promise<void> {
    const o = this.#options;
    this.#link = await connectRedis(o.target, {
      name: 'gaw-registry',
      commandTimeoutMs: o.commandTimeoutMs,
      maxReconnectMs: o.maxReconnectMs,
      logger: o.logger,
    });
    this.#link.onReady(() => {
      if (this.#link !== undefined && this.#beating === undefined) void this.#register('up');
    });
    await this.#register('up');
    this.#schedule();
  }

  /** Graceful stop, first half: clients stop sending new calls here (the record says draining). */
  async drain(): Promise<void> {
    if (this.#isDraining || this.#link === undefined) return;
    this.#isDraining = true;
    await this.#register('drain');
  }

  /** Graceful stop, second half: the registration is removed at once (down) and the connection closed. */
  async stop(): Promise<void> {
    if (this.#isStopped) return;
    this.#isStopped = true;
    clearTimeout(this.#timer);
    const link = this.#link;
    if (link === undefined) return;
    await this.#beating;
    try {
      await link.script(deregisterScript, scriptKeys(this.#keys), [this.#keys.prefix, this.#keys.changes, this.id]);
    } catch (err) {
      this.#options.logger.warn({ err: message(err) }, 'registry: deregister failed; the record expires after ttlMs');
    }
    await link.close();
  }

  /** Now: no deregistration (the record expires after ttlMs). */
  destroy(): void {
    this.#isStopped = true;
    clearTimeout(this.#timer);
    this.#link?.destroy();
  }

  #schedule(): void {
    if (this.#isStopped) return;
    const { heartbeatMs } = this.#options;
    const delayMs = Math.round(heartbeatMs * (0.9 + Math.random() * 0.2));
    this.#timer = setTimeout(() => {
      this.#beating = this.#beat().finally(() => {
        this.#beating = undefined;
        this.#schedule();
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #beat(): Promise<void> {
    const link = this.#link;
    if (link === undefined || this.#isStopped) return;
    try {
      const reply = await link.script(heartbeatScript, scriptKeys(this.#keys), [
        this.#keys.prefix,
        this.#keys.changes,
        this.id,
        String(this.#options.ttlMs),
        String(reapBatch),
      ]);
      if (reply === 'GONE') {
        this.goneCount++;
        this.#isRegistered = false;
        this.#options.logger.info({ id: this.id }, 'registry: our registration was gone; registering again');
        await this.#register('up');
      } else if (typeof reply === 'number' && reply > 0) {
        this.#options.logger.info({ reaped: reply }, 'registry: reaped expired instances');
      }
    } catch (err) {
      this.#options.logger.debug({ err: message(err) }, 'registry: heartbeat failed; retrying on the next beat');
    }
  }

  async #register(op: 'up' | 'drain'): Promise<void> {
    const link = this.#link;
    if (link === undefined || this.#isStopped) return;
    const record = { ...this.#record, draining: this.#isDraining };
    try {
      await link.script(registerScript, scriptKeys(this.#keys), [
        this.#keys.prefix,
        this.#keys.changes,
        this.id,
        JSON.stringify(record),
        String(this.#options.ttlMs),
        this.#isDraining ? 'drain' : op === 'up' ? 'update' : op,
        ...record.services,
      ]);
      this.#isRegistered = true;
    } catch (err) {
      this.#options.logger.warn(
        { err: message(err), redis: this.#options.target.label },
        'registry: register failed; retrying on the next beat',
      );
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
