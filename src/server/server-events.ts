// A GawServer's events: the GawEvents made from its `events` option (secret, registry and logger
// default to the server's), and the subscriptions of its hosted services' @on methods, made at
// listen() and stopped first at close() (running durable handlers finish and are acknowledged).
import type { Logger } from '../log.js';
import { GawEvents, describeSubscriptions, inheritEventsOptions } from '../events/index.js';
import type { EventsOption, Subscription } from '../events/index.js';
import type { Registry } from '../serializable/index.js';
import type { ServiceDescription } from './service.js';

export interface ServerEventsInherited {
  secret?: string | Readonly<Record<number, string>> | undefined;
  registry: Registry | undefined;
  maxDepth: number | undefined;
  logger: Logger;
  discovery?: unknown;
}

export class ServerEvents {
  readonly events: GawEvents;
  readonly #logger: Logger;
  readonly #subscriptions: Promise<Subscription>[] = [];

  constructor(option: EventsOption, inherited: ServerEventsInherited) {
    this.events = new GawEvents(
      inheritEventsOptions(
        option,
        {
          secret: inherited.secret,
          logger: inherited.logger,
          discovery: inherited.discovery,
          ...(inherited.registry !== undefined && { registry: inherited.registry }),
          ...(inherited.maxDepth !== undefined && { maxDepth: inherited.maxDepth }),
        },
        'GawServer',
      ),
    );
    this.#logger = inherited.logger;
  }

  /**
   * Subscribes every @on method of the hosted services: durable ones in the group given, or the
   * service's name. Waits up to `waitMs` for Redis; past it the subscriptions complete in the
   * background when Redis answers (logged), so the server serves calls either way.
   */
  async start(
    services: readonly ServiceDescription[],
    instanceOf: (service: string) => object,
    waitMs = 5000,
  ): Promise<void> {
    for (const service of services) {
      for (const spec of describeSubscriptions(service.cls)) {
        const handler = (value: unknown, meta: unknown) => {
          const instance = instanceOf(service.name) as Record<string, (...args: unknown[]) => unknown>;
          return instance[spec.method]!(value, meta);
        };
        const group = spec.isBroadcast ? undefined : (spec.group ?? service.name);
        const subscribed = this.events.on(spec.event, handler, group === undefined ? {} : { group });
        subscribed.catch((err) =>
          this.#logger.error(
            { service: service.name, event: spec.event, err: String((err as Error)?.message ?? err) },
            'events: could not subscribe',
          ),
        );
        this.#subscriptions.push(subscribed);
      }
    }
    if (this.#subscriptions.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), waitMs).unref();
    });
    const outcome = await Promise.race([Promise.allSettled(this.#subscriptions), late]);
    clearTimeout(timer);
    if (outcome === 'late')
      this.#logger.warn({ waitMs }, 'events: Redis did not answer; subscribing in the background');
  }

  async close(): Promise<void> {
    await this.events.close();
  }
}
