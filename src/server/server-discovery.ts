// A GawServer's registration (its `discovery` option): the options checked at construction, one
// record for the bound address (every hosted service under it) registered after listen(), the
// record marked draining first thing in close() and removed once the connections have drained.
// Redis down or slow never holds up serving: each step waits at most one command timeout.
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import { Announcer, advertisedAddress, resolveDiscovery } from '../registry/index.js';
import type { DiscoveryOptions, ResolvedDiscovery } from '../registry/index.js';

export interface ServedShape {
  readonly services: readonly { readonly name: string }[];
  readonly suites: readonly string[];
  readonly codecs: readonly string[];
  /** The key ids the server holds (the record names the highest; 0 without a secret). */
  readonly keyIds: readonly number[];
}

export class ServerDiscovery {
  readonly #options: ResolvedDiscovery;
  #announcer: Announcer | undefined;

  constructor(option: string | DiscoveryOptions, logger: Logger) {
    this.#options = resolveDiscovery(option, logger);
  }

  /** Throws the usage error (naming --advertise) before anything listens, when the bound host is a wildcard. */
  check(host: string): void {
    advertisedAddress(this.#options, host, 1);
  }

  get announcer(): Announcer | undefined {
    return this.#announcer;
  }

  /** Registers (waiting at most about one command timeout); keeps trying in the background after. */
  async start(address: AddressInfo, shape: ServedShape): Promise<void> {
    const announcer = new Announcer(this.#options, {
      host: address.address,
      port: address.port,
      services: shape.services.map((s) => s.name),
      suites: shape.suites,
      codecs: shape.codecs,
      keyId: Math.max(0, ...shape.keyIds),
    });
    this.#announcer = announcer;
    await withinMs(announcer.start(), this.#options.commandTimeoutMs * 2);
    this.#options.logger.info(
      { addr: announcer.address, registry: this.#options.target.label, isRegistered: announcer.isRegistered },
      'registered with the registry',
    );
  }

  /** Graceful stop, first step: new calls go elsewhere. */
  drain(): Promise<void> {
    return withinMs(this.#announcer?.drain(), this.#options.commandTimeoutMs);
  }

  /** Graceful stop, last step: the record is removed (down). */
  stop(): Promise<void> {
    const stopped = this.#announcer?.stop().catch(() => {});
    return withinMs(stopped, this.#options.commandTimeoutMs * 2).finally(() => this.#announcer?.destroy());
  }
}

/** Waits for `promise` at most `ms` (the announcer logs its own Redis failures and retries). */
function withinMs(promise: Promise<void> | undefined, ms: number): Promise<void> {
  if (promise === undefined) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms).unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
