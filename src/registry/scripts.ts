// The registry's data layout and its Lua scripts (run by EVALSHA, atomic, all time from Redis
// TIME so machine clocks never matter). Keys of one namespace share the hash tag `{ns}`:
//   gaw:{ns}:live      ZSET  id -> deadline (Redis ms)      gaw:{ns}:inst  HASH id -> record JSON
//   gaw:{ns}:svc:<s>   SET   ids hosting service s          gaw:{ns}:names SET  names with an instance
//   gaw:{ns}:rev       counter, INCR per change             gaw:{ns}:changes  channel of change messages
// No KEYS or SCAN anywhere: every lookup is by a key named here.
import { defineLuaScript } from '../redis/index.js';

export interface RegistryKeys {
  readonly prefix: string;
  readonly live: string;
  readonly inst: string;
  readonly names: string;
  readonly rev: string;
  readonly changes: string;
}

export function registryKeys(namespace: string): RegistryKeys {
  const prefix = `gaw:{${namespace}}:`;
  return {
    prefix,
    live: `${prefix}live`,
    inst: `${prefix}inst`,
    names: `${prefix}names`,
    rev: `${prefix}rev`,
    changes: `${prefix}changes`,
  };
}

/** KEYS[1..4] = live, inst, names, rev for every script. */
export function scriptKeys(keys: RegistryKeys): string[] {
  return [keys.live, keys.inst, keys.names, keys.rev];
}

const common = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function services_of(rec)
  if not rec then return {} end
  local ok, value = pcall(cjson.decode, rec)
  if not ok or type(value) ~= 'table' or type(value.services) ~= 'table' then return {} end
  local out = {}
  for _, s in ipairs(value.services) do
    if type(s) == 'string' and #s <= 128 then out[#out + 1] = s end
  end
  return out
end
local function leave(prefix, s, id)
  local key = prefix .. 'svc:' .. s
  redis.call('SREM', key, id)
  if redis.call('SCARD', key) == 0 then redis.call('SREM', KEYS[3], s) end
end
local function remove(prefix, channel, id)
  for _, s in ipairs(services_of(redis.call('HGET', KEYS[2], id))) do leave(prefix, s, id) end
  redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
  local rev = redis.call('INCR', KEYS[4])
  redis.call('PUBLISH', channel, cjson.encode({v = 1, op = 'down', id = id, rev = rev}))
  return rev
end
`;

/**
 * ARGV: prefix, channel, id, record, ttlMs, op (up|update|drain), services...
 * Sets the deadline, the record and the memberships (dropping services the old record had);
 * when the record changed, INCR rev and publish. Returns the new rev, or 0 when nothing changed.
 */
export const registerScript = defineLuaScript(`${common}
local prefix, channel, id, rec = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('ZADD', KEYS[1], now_ms() + tonumber(ARGV[5]), id)
local old = redis.call('HGET', KEYS[2], id)
local keep = {}
for i = 7, #ARGV do keep[ARGV[i]] = true end
for _, s in ipairs(services_of(old)) do
  if not keep[s] then leave(prefix, s, id) end
end
for i = 7, #ARGV do
  redis.call('SADD', prefix .. 'svc:' .. ARGV[i], id)
  redis.call('SADD', KEYS[3], ARGV[i])
end
if old == rec then return 0 end
redis.call('HSET', KEYS[2], id, rec)
local op = ARGV[6]
if not old then op = 'up' end
local rev = redis.call('INCR', KEYS[4])
redis.call('PUBLISH', channel, cjson.encode({v = 1, op = op, id = id, rev = rev, rec = rec}))
return rev
`);

/**
 * ARGV: prefix, channel, id, ttlMs, reapBatch. 'GONE' when id was reaped or wiped (the caller
 * registers again); else moves its deadline and reaps up to reapBatch expired ids, publishing
 * down for each. Returns the number reaped.
 */
export const heartbeatScript = defineLuaScript(`${common}
local prefix, channel, id = ARGV[1], ARGV[2], ARGV[3]
local now = now_ms()
if not redis.call('ZSCORE', KEYS[1], id) or redis.call('HEXISTS', KEYS[2], id) == 0 then
  return 'GONE'
end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[4]), id)
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
for _, d in ipairs(dead) do remove(prefix, channel, d) end
return #dead
`);

/** ARGV: prefix, channel, id. Removes id at once (graceful stop) and publishes down; 0 if it was not there. */
export const deregisterScript = defineLuaScript(`${common}
local prefix, channel, id = ARGV[1], ARGV[2], ARGV[3]
if not redis.call('ZSCORE', KEYS[1], id) and redis.call('HEXISTS', KEYS[2], id) == 0 then return 0 end
return remove(prefix, channel, id)
`);

/**
 * ARGV: prefix, maxRecordBytes, maxInstances, names... Returns {rev, {name, {id, rec, ...}}, ...}:
 * for each name, the members whose deadline is still ahead and whose record is not oversized,
 * one atomic snapshot. Members left behind by a hand-edited or forged record are dropped.
 */
export const readScript = defineLuaScript(`${common}
local prefix, maxBytes, maxInstances = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now = now_ms()
local out = {tonumber(redis.call('GET', KEYS[4]) or '0')}
for i = 4, #ARGV do
  local name = ARGV[i]
  local key = prefix .. 'svc:' .. name
  local found = {}
  local ids = redis.call('SRANDMEMBER', key, maxInstances)
  for _, id in ipairs(ids) do
    local score = tonumber(redis.call('ZSCORE', KEYS[1], id) or '0')
    local rec = score > now and redis.call('HGET', KEYS[2], id)
    if rec and #rec <= maxBytes then
      found[#found + 1] = id
      found[#found + 1] = rec
    elseif not rec and score == 0 then
      redis.call('SREM', key, id)
    end
  end
  if redis.call('SCARD', key) == 0 then redis.call('SREM', KEYS[3], name) end
  out[#out + 1] = {name, found}
end
return out
`);

/** ARGV: maxNames. Returns {count, names...}: up to maxNames of the names with an instance. */
export const namesScript = defineLuaScript(`
local count = redis.call('SCARD', KEYS[3])
local names = redis.call('SRANDMEMBER', KEYS[3], tonumber(ARGV[1]))
table.insert(names, 1, count)
return names
`);
