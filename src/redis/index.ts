// Redis plumbing shared by the registry and events: URL parsing and one bounded connection,
// node-redis loaded only when used. Reached only through this file.
export { connectRedis, defineLuaScript, loadRedisModule, RedisLink } from './connect.js';
export type { BufferListener, LuaScript, RedisArg, RedisLinkOptions } from './connect.js';
export { parseRedisUrl } from './url.js';
export type { RedisTarget } from './url.js';
