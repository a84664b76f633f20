import type { Stores, UserStore } from '../types.js';
import type { RedisClient } from './client.js';
import type { HashReader } from './hash-reader.js';
import { DEFAULT_PREFIX, redisKeys } from './keys.js';
import { profileInvalidator, withProfileInvalidation } from './profiles.js';
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
  /**
   * Lifetime of the profile copies kept beside Redis sessions (see `createRedisSessionStore`); 0 for
   * none. Changes through `users` drop the copies either way: other nodes sharing the Redis may keep them.
   */
  profileCopyTtlMs?: number;
  /**
   * What sessions are read through (see `createRedisSessionStore`), on the same Redis as `redis`.
   * The result owns it, and quits it on `close`. Default: `redis`.
   */
  reader?: HashReader;
}

/** Lifetime of the key readiness writes: long enough to read while debugging, short enough to vanish. */
const READY_KEY_TTL_MS = 60_000;

/**
 * `base` with sessions and/or rate limits moved to Redis. With sessions there, `users` is `base`'s
 * user store dropping the Redis copy of a user's profile after every change it makes. The result owns `redis` (and
 * `reader`): `ping` checks both backends (Redis by a write, as readiness requires), and `close`
 * closes `base`, then quits the clients.
 *
 * @example
 * const stores = withRedisStores(await openStores(databaseUrl), await openRedis(redisUrl));
 */
export function withRedisStores(base: Stores, redis: RedisClient, options: WithRedisStoresOptions = {}): Stores {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const redisSessions = options.sessions !== false;
  const sessions = redisSessions
    ? createRedisSessionStore(redis, {
        users: options.users ?? base.users,
        prefix,
        ...(options.profileCopyTtlMs !== undefined ? { profileCopyTtlMs: options.profileCopyTtlMs } : {}),
        ...(options.reader ? { reader: options.reader } : {}),
      })
    : base.sessions;
  // Sessions in Redis keep copies of profiles: every change of a user through this store drops its
  // copy, even when this process keeps none (profileCopyTtlMs 0): other nodes sharing the Redis may.
  const users = redisSessions ? withProfileInvalidation(base.users, profileInvalidator(redis, redisKeys(prefix))) : base.users;
  const rateLimits = options.rateLimits === false ? base.rateLimits : createRedisRateLimitStore(redis, { prefix });
  return {
    ...base,
    users,
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
        await Promise.all([redis.quit(), options.reader?.quit()]);
      }
    },
  };
}
