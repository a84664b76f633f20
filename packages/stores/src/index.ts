/**
 * @tessera/stores: every store the auth server needs (users, sessions, refresh families,
 * signing keys, revocation events, login-failure counters), in memory, SQLite or PostgreSQL,
 * with sessions and counters optionally in Redis, behind the interfaces in `types.ts`. Most
 * callers only need {@link openStores}. Importing this module loads no database driver: each
 * backend loads its own when it is opened. Each backend is also its own entry point
 * (`@tessera/stores/memory`, `/sqlite`, `/postgres`, `/redis`).
 */
export { InvalidCursorError, isStoreUnavailable, StoreConfigError, StoreUnavailableError } from './errors.js';
export { foldEmail } from './lib/email.js';
export { createMemoryStores } from './memory/index.js';
export { type OpenStoresOptions, openStores } from './open.js';
export {
  createPostgresStores,
  DEFAULT_POOL_SIZE,
  type MigratePostgresOptions,
  migratePostgres,
  type PgPoolClientLike,
  type PgPoolLike,
  type PgQueryable,
  type PgResult,
  type PostgresStoresOptions,
} from './postgres/index.js';
export {
  createRedisRateLimitStore,
  createRedisSessionStore,
  DEFAULT_REDIS_PREFIX,
  type HashReader,
  type HashReaderOptions,
  type OpenRedisOptions,
  openHashReader,
  openRedis,
  type RedisClient,
  type RedisRateLimitStoreOptions,
  type RedisSessionStoreOptions,
  type WithRedisStoresOptions,
  withRedisStores,
} from './redis/index.js';
export { createSqliteStores, type SqliteStoresOptions } from './sqlite/index.js';
export {
  type ActiveSessionsWithAccount,
  EmailTakenError,
  type FailureCount,
  type KeyStore,
  type RateLimitStore,
  type RefreshStore,
  type RefreshToken,
  type RefreshWithOwner,
  type RevocationEvent,
  type RevocationStore,
  type RoleChange,
  type RotateResult,
  type Session,
  type SessionKind,
  type SessionPage,
  type SessionStore,
  type StoredKey,
  type Stores,
  type User,
  type UserPage,
  type UserProfile,
  type UserStore,
} from './types.js';
