import type { Stores, UserStore } from '../types.js';
import type { RedisClient } from './client.js';
import { DEFAULT_PREFIX } from './keys.js';
import { createRedisRateLimitStore } from './rate-limits.js';
import { createRedisSessionStore } from './sessions.js';

/** Options of {@link withRedisStores}. */
export interface WithRedisStoresOptions {
  /** Prepended to every key. Default `'tessera:'`. */
  prefix?: string;
  /** Keep sessions in Redis (`TESSERA_SESSION_STORE=redis`). Default true. */
  sessions?: boolean;
  /** Keep login-failure counters in Redis, shared by every node. Default true. */
  rateLimits?: boolean;
  /** Where session profiles are read. Default: `base.users`. */
  users?: Pick<UserStore, 'findById'>;
}

/** Lifetime of the key readiness writes: long enough to read while debugging, short enough to vanish. */
const READY_KEY_TTL_MS = 60_000;

/**
 * `base` with sessions and/or rate limits moved to Redis. The result owns `redis`: `ping` checks
 * both backends (Redis by a write, as readiness requires), and `close` closes `base`, then quits
 * the client.
 *
 * @example
 * const stores = withRedisStores(await openStores(databaseUrl), await openRedis(redisUrl));
 */
export function withRedisStores(base: Stores, redis: RedisClient, options: WithRedisStoresOptions = {}): Stores {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const sessions =
    options.sessions === false ? base.sessions : createRedisSessionStore(redis, { users: options.users ?? base.users, prefix });
  const rateLimits = options.rateLimits === false ? base.rateLimits : createRedisRateLimitStore(redis, { prefix });
  return {
    ...base,
    sessions,
    rateLimits,
    async ping() {
      // On a cluster this reaches the master of one slot only; the others answer for themselves
      // with a 503 (isStoreUnavailable) on the requests that need them.
      await Promise.all([base.ping(), redis.set(`${prefix}ready`, String(Date.now()), 'PX', READY_KEY_TTL_MS)]);
    },
    async close() {
      try {
        await base.close();
      } finally {
        await redis.quit();
      }
    },
  };
}
