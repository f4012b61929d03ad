// Events between services on Redis: broadcast (pub/sub) and durable groups (Streams), with signed
// envelopes, and the @on decorator services subscribe with. Reached only through this file.
export { GawEvents } from './events.js';
export type { EventHandler, SubscribeOptions, Subscription } from './events.js';
export type { EventMeta, RefusalReason } from './envelope.js';
export type { DeliveryMeta } from './group.js';
export { inheritEventsOptions } from './options.js';
export type { EventsOption, GawEventsOptions } from './options.js';
export type { EventsStats } from './refusals.js';
export { describeSubscriptions, hasSubscriptions, on } from './subscriptions.js';
export type { OnOptions, SubscriptionSpec } from './subscriptions.js';
