/**
 * Redis backends: sessions and login-failure counters, on one Redis or on Redis Cluster
 * (hash-tagged keys; see `keys.ts` for the layout). Redis holds no users, keys or revocation
 * log: {@link withRedisStores} puts these stores beside a SQL backend's.
 */
export type { RedisClient } from './client.js';
export { type WithRedisStoresOptions, withRedisStores } from './compose.js';
export { type HashReader, type HashReaderOptions, openHashReader } from './hash-reader.js';
export { DEFAULT_PREFIX as DEFAULT_REDIS_PREFIX } from './keys.js';
export { InvalidRedisUrlError, type OpenRedisOptions, openRedis } from './open.js';
export { createRedisRateLimitStore, type RedisRateLimitStoreOptions } from './rate-limits.js';
export { createRedisSessionStore, type RedisSessionStoreOptions } from './sessions.js';
