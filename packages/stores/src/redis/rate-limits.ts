import type { RateLimitStore } from '../types.js';
import type { RedisClient } from './client.js';
import { DEFAULT_PREFIX, redisKeys } from './keys.js';
import { defineScript } from './script.js';

// A counter is a hash { count, lastAt, endsAt } (endsAt: first instant outside the window).
// Times are compared with the caller's `now`, never Redis' clock, exactly as the other stores
// do; the key's TTL only makes Redis forget a counter whose window has passed.

/** KEYS: counter. ARGV: now, windowMs (≥ 1), now + windowMs. Returns { count, lastAt }. */
const RECORD = defineScript(`
local ends = redis.call('HGET', KEYS[1], 'endsAt')
if not ends or tonumber(ends) <= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'count', 1, 'lastAt', ARGV[1], 'endsAt', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, ARGV[1]}
end
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'lastAt', ARGV[1])
return {count, ARGV[1]}
`);

/** KEYS: counter. ARGV: now, ifAt or '', to or ''. */
const FORGIVE = defineScript(`
local c = redis.call('HMGET', KEYS[1], 'count', 'lastAt', 'endsAt')
if not c[3] or tonumber(c[3]) <= tonumber(ARGV[1]) or tonumber(c[1]) <= 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'count', -1)
if ARGV[2] ~= '' and tonumber(c[2]) == tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], 'lastAt', ARGV[3]) end
return 1
`);

/** Options of {@link createRedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /** Prepended to every key, so several deployments can share a Redis. Default `'tessera:'`. */
  prefix?: string;
}

/**
 * Redis {@link RateLimitStore}. `recordFailure` and `forgive` are each one Lua script, so
 * concurrent failures from any number of nodes each count once and a window restarts once;
 * `get` is one HMGET and `reset` one DEL, atomic as single commands are. Every counter is one
 * key, so it works unchanged on Redis Cluster.
 *
 * @example
 * const rateLimits = createRedisRateLimitStore(await openRedis(process.env.TESSERA_REDIS_URL!));
 */
export function createRedisRateLimitStore(redis: RedisClient, options: RedisRateLimitStoreOptions = {}): RateLimitStore {
  const keys = redisKeys(options.prefix ?? DEFAULT_PREFIX);

  return {
    async recordFailure(key, now, windowMs) {
      // PEXPIRE 0 would delete the counter it just wrote; a window of at most 1 ms ends at once anyway.
      const ttl = Math.max(1, Math.ceil(windowMs));
      const [count, lastAt] = (await RECORD(redis, [keys.rateLimit(key)], [now, ttl, now + windowMs])) as [number, string];
      return { count, lastAt: Number(lastAt) };
    },

    async get(key, now) {
      const [count, lastAt, endsAt] = await redis.hmget(keys.rateLimit(key), 'count', 'lastAt', 'endsAt');
      if (count == null || lastAt == null || endsAt == null || Number(endsAt) <= now) return null;
      return { count: Number(count), lastAt: Number(lastAt) };
    },

    async reset(key) {
      await redis.del(keys.rateLimit(key));
    },

    async forgive(key, now, restore) {
      await FORGIVE(redis, [keys.rateLimit(key)], [now, restore?.ifAt ?? '', restore?.to ?? '']);
    },
  };
}
