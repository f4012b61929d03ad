// Discovery on Redis: servers announce themselves (announcer.ts), clients watch names
// (watcher.ts), both over the data layout and scripts of scripts.ts. Reached only through this file.
export { Announcer, advertisedAddress } from './announcer.js';
export type { AnnouncedServer } from './announcer.js';
export { discoveryDefaults, resolveDiscovery } from './options.js';
export type { DiscoveryOptions, ResolvedDiscovery } from './options.js';
export { globToRegExp, isServiceName, maxRecordBytes, parseRecord } from './record.js';
export type { InstanceRecord } from './record.js';
export { registryKeys } from './scripts.js';
export { RegistryWatcher } from './watcher.js';
export type { EndpointsListener, RegistryState } from './watcher.js';
export type { Instance, WatchEvent, WatchEventType } from './view.js';
export { ServiceView } from './view.js';
