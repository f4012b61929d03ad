// How a service class subscribes to events: the `@on('order.created')` method decorator and its
// plain-JavaScript form `static events = { method: 'order.created' | { event, group, broadcast } }`.
// Marks the method function itself (no Symbol.metadata), read once by describeSubscriptions when
// the service is hosted. Knows nothing of Redis or of how the server calls the method.
import { UsageError } from '../errors.js';
import { checkEventName, checkEventPattern } from './options.js';

/** Options of `@on(event, { ... })`. */
export interface OnOptions {
  /** The consumer group (default the service's name): one instance of the group handles each event. */
  group?: string;
  /** Every instance gets the event (pub/sub, at-most-once; events sent with `broadcast`). Default false. */
  broadcast?: boolean;
}

/** One subscription of a service class. */
export interface SubscriptionSpec {
  readonly method: string;
  readonly event: string;
  /** undefined: the service's name (durable), unless `isBroadcast`. */
  readonly group: string | undefined;
  readonly isBroadcast: boolean;
}

type Spec = Omit<SubscriptionSpec, 'method'>;
const marked = new WeakMap<Function, Spec[]>();

function toSpec(event: unknown, options: unknown, where: string): Spec {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options)))
    throw new UsageError('GAW_ERR_INVALID_OPTION', `${where}: options must be an object such as { group: "billing" }`);
  const { group, broadcast, ...rest } = (options ?? {}) as OnOptions;
  const unknownKey = Object.keys(rest)[0];
  if (unknownKey !== undefined)
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `${where}: unknown option ${JSON.stringify(unknownKey)} (group, broadcast)`,
    );
  if (broadcast !== undefined && typeof broadcast !== 'boolean')
    throw new UsageError('GAW_ERR_INVALID_OPTION', `${where}: broadcast must be true or false`);
  if (broadcast === true && group !== undefined)
    throw new UsageError('GAW_ERR_INVALID_OPTION', `${where}: a broadcast subscription has no group`);
  if (broadcast === true) checkEventPattern(event);
  else checkEventName(event, `${where}: the event name`);
  if (group !== undefined) checkEventName(group, `${where}: the group`);
  return { event: event as string, group, isBroadcast: broadcast === true };
}

/**
 * Subscribes a service method to an event: `@on('order.created')` (durable, group = the service
 * name), `@on('order.created', { group: 'audit' })`, `@on('cache.flush', { broadcast: true })`.
 * The method is called as `method(data, meta)`; a durable event is acknowledged when it returns
 * (or its promise resolves) and redelivered when it throws.
 */
export function on(event: string, options?: OnOptions) {
  const spec = toSpec(event, options, '@on');
  return (value: Function, context: ClassMethodDecoratorContext): void => {
    if (context?.kind !== 'method' || context.static || context.private || typeof context.name !== 'string')
      throw new UsageError('GAW_ERR_NOT_A_SERVICE', '@on applies to public, non-static, string-named methods only');
    const list = marked.get(value) ?? [];
    list.push(spec);
    marked.set(value, list);
  };
}

function methodsOf(cls: Function): Map<string, Function> {
  const found = new Map<string, Function>();
  for (let proto = cls.prototype; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor' || found.has(key)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, key);
      if (typeof descriptor?.value === 'function') found.set(key, descriptor.value);
    }
  }
  return found;
}

/** Every subscription of a class, from @on marks and `static events`; throws a UsageError naming a bad entry. */
export function describeSubscriptions(cls: Function): SubscriptionSpec[] {
  if (typeof cls !== 'function' || typeof cls.prototype !== 'object' || cls.prototype === null) return [];
  const methods = methodsOf(cls);
  const specs: SubscriptionSpec[] = [];
  for (const [method, fn] of methods) for (const spec of marked.get(fn) ?? []) specs.push({ method, ...spec });
  const listed: unknown = (cls as { events?: unknown }).events;
  if (listed === undefined) return specs;
  if (typeof listed !== 'object' || listed === null || Array.isArray(listed))
    throw new UsageError(
      'GAW_ERR_NOT_A_SERVICE',
      'static events must be an object { method: "event.name" | { event, group, broadcast } }',
    );
  for (const [method, value] of Object.entries(listed)) {
    const where = `static events.${method}`;
    if (!methods.has(method))
      throw new UsageError('GAW_ERR_NOT_A_SERVICE', `${where}: the class has no method ${JSON.stringify(method)}`);
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === 'string') specs.push({ method, ...toSpec(item, undefined, where) });
      else if (typeof item === 'object' && item !== null) {
        const { event, ...options } = item as { event?: unknown };
        specs.push({ method, ...toSpec(event, options, where) });
      } else
        throw new UsageError('GAW_ERR_NOT_A_SERVICE', `${where} must be an event name or { event, group, broadcast }`);
    }
  }
  return specs;
}

/** True when a class subscribes to at least one event (a service may have no entrypoints then). */
export function hasSubscriptions(cls: Function): boolean {
  return describeSubscriptions(cls).length > 0;
}
