// Calls by service name (the client's `discovery` option): each service a call names gets its own
// GawpTransport (pools, power-of-two-choices, ejection, probes) whose endpoints are that name's
// serving instances in the registry, replaced as the registry changes: a new instance takes calls
// on arrival, a removed or draining one drains (its calls in flight finish). The first call to a
// name waits for one read (discoveryTimeoutMs); while Redis is down, names already read keep their
// last endpoints and names never read fail fast (GAW_ERR_DISCOVERY_UNAVAILABLE).
import { GawError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { RegistryWatcher, resolveDiscovery } from '../registry/index.js';
import type { DiscoveryOptions, Instance } from '../registry/index.js';
import { splitMethod } from '../observe/index.js';
import type { Codec } from '../serializable/index.js';
import type { Endpoint } from './pool.js';
import type { StreamReceiver } from './stream-table.js';
import type {
  Attempt,
  OutgoingBatchCall,
  OutgoingCall,
  OutgoingContext,
  Outcome,
  Transport,
  TransportFeatures,
} from './transport.js';

/** One name's transport, and how many instances serve it now (0: calls fail with GAW_ERR_NO_ENDPOINT). */
interface Route {
  readonly transport: Transport;
  serving: number;
}

export type TransportFactory = (endpoints: readonly Endpoint[]) => Transport;

/** The endpoints of the serving instances that speak `codec`; weight as registered. */
function endpointsOf(instances: readonly Instance[], codec: string): Endpoint[] {
  return instances
    .filter((instance) => instance.codecs.length === 0 || instance.codecs.includes(codec))
    .map((instance) => ({ host: instance.host, port: instance.port, weight: instance.weight }));
}

export class RegistryTransport implements Transport {
  readonly protocol = 'gawp';
  readonly features: TransportFeatures = Object.freeze({ notifications: true, batches: true, ownCodec: true });
  readonly codec: Codec;
  readonly watcher: RegistryWatcher;
  readonly #make: TransportFactory;
  readonly #routes = new Map<string, Route>();
  readonly #opening = new Map<string, Promise<Route>>();
  readonly #unlisten: () => void;
  /** The registry's URL, password hidden. */
  readonly #label: string;
  #isClosed = false;

  constructor(watcher: RegistryWatcher, label: string, make: TransportFactory, codec: Codec) {
    this.watcher = watcher;
    this.#label = label;
    this.#make = make;
    this.codec = codec;
    this.#unlisten = watcher.onEndpoints((name, serving) => {
      const route = this.#routes.get(name);
      if (route === undefined || this.#isClosed) return;
      const endpoints = endpointsOf(serving, codec.name);
      route.serving = endpoints.length;
      route.transport.setEndpoints?.(endpoints);
    });
  }

  get pendingCount(): number {
    let total = 0;
    for (const route of this.#routes.values()) total += route.transport.pendingCount;
    return total;
  }

  get connectionCount(): number {
    let total = 0;
    for (const route of this.#routes.values()) total += route.transport.connectionCount;
    return total;
  }

  setEndpoints(): void {
    throw new UsageError('GAW_ERR_INVALID_OPTION', 'the endpoints of a client with discovery come from the registry');
  }

  call(call: OutgoingCall, attempt: Attempt): Promise<Outcome> {
    const route = this.#routes.get(splitMethod(call.method).service);
    if (route !== undefined && route.serving > 0) return route.transport.call(call, attempt);
    return this.#route(call.method).then((t) => t.call(call, attempt));
  }

  batch(calls: readonly OutgoingBatchCall[], attempt: Attempt, context?: OutgoingContext): Promise<Outcome[]> {
    const service = splitMethod(calls[0]?.method ?? '').service;
    if (calls.some((c) => splitMethod(c.method).service !== service))
      return Promise.reject(
        new UsageError('GAW_ERR_INVALID_OPTION', 'a batch over discovery calls one service (it goes to one instance)'),
      );
    return this.#route(calls[0]?.method ?? '').then((t) => t.batch(calls, attempt, context));
  }

  stream(call: OutgoingCall, attempt: Attempt, window: number, receiver: StreamReceiver): Promise<Outcome | undefined> {
    return this.#route(call.method).then((t) => {
      if (t.stream === undefined) throw new UsageError('GAW_ERR_INVALID_OPTION', 'this transport has no streams');
      return t.stream(call, attempt, window, receiver);
    });
  }

  notify(call: OutgoingCall, signal: AbortSignal | undefined): Promise<void> {
    return this.#route(call.method).then((t) => t.notify(call, signal));
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    this.#unlisten();
    await Promise.all([...[...this.#routes.values()].map((route) => route.transport.close()), this.watcher.close()]);
  }

  destroy(): void {
    this.#isClosed = true;
    this.#unlisten();
    for (const route of this.#routes.values()) route.transport.destroy();
    this.watcher.destroy();
  }

  /** The transport for the service `method` names: resolved on first use; none when nothing serves it. */
  async #route(method: string): Promise<Transport> {
    if (this.#isClosed) throw new UsageError('GAW_ERR_CLOSED', 'the client is closed');
    const { service } = splitMethod(method);
    if (service === '')
      throw new UsageError('GAW_ERR_INVALID_OPTION', `${JSON.stringify(method.slice(0, 130))} names no service`);
    let route = this.#routes.get(service);
    if (route === undefined) {
      let opening = this.#opening.get(service);
      if (opening === undefined) {
        opening = this.#open(service).finally(() => this.#opening.delete(service));
        this.#opening.set(service, opening);
      }
      route = await opening;
    }
    if (route.serving === 0)
      throw new GawError('GAW_ERR_NO_ENDPOINT', `no instance of ${service} is registered at ${this.#label}`);
    return route.transport;
  }

  async #open(service: string): Promise<Route> {
    const view = await this.watcher.resolve(service);
    if (this.#isClosed) throw new UsageError('GAW_ERR_CLOSED', 'the client is closed');
    const existing = this.#routes.get(service);
    if (existing !== undefined) return existing;
    const endpoints = endpointsOf(view.serving(), this.codec.name);
    const route: Route = { transport: this.#make(endpoints), serving: endpoints.length };
    this.#routes.set(service, route);
    return route;
  }
}

/** The `discovery` option's transport and watcher; endpoints, host and port are refused beside it. */
export function discoveryTransport(
  discovery: string | DiscoveryOptions,
  options: { endpoints?: unknown; host?: unknown; port?: unknown },
  logger: Logger,
  codec: Codec,
  make: TransportFactory,
): { transport: RegistryTransport; watcher: RegistryWatcher; peer: string } {
  const clash = (['endpoints', 'host', 'port'] as const).find((key) => options[key] !== undefined);
  if (clash !== undefined)
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `${clash} and discovery cannot both be set: the registry names the endpoints`,
    );
  const resolved = resolveDiscovery(discovery, logger);
  const watcher = new RegistryWatcher(resolved);
  const peer = resolved.target.label;
  return { transport: new RegistryTransport(watcher, peer, make, codec), watcher, peer };
}

export function noDiscovery(what: string): UsageError {
  return new UsageError('GAW_ERR_INVALID_OPTION', `${what}() needs the discovery option (a registry URL)`);
}
