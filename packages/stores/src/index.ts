/**
 * @tessera/stores: every store the auth server needs (users, sessions, refresh families,
 * signing keys, revocation events, login-failure counters), in memory or in SQLite, behind
 * the interfaces in `types.ts`. Most callers only need {@link openStores}.
 */
export { InvalidCursorError } from './errors.js';
export { foldEmail } from './lib/email.js';
export { createMemoryStores } from './memory/index.js';
export { openStores } from './open.js';
export { createSqliteStores, type SqliteStoresOptions } from './sqlite/index.js';
export {
  EmailTakenError,
  type FailureCount,
  type KeyStore,
  type RateLimitStore,
  type RefreshStore,
  type RefreshToken,
  type RevocationEvent,
  type RevocationStore,
  type RotateResult,
  type Session,
  type SessionKind,
  type SessionStore,
  type StoredKey,
  type Stores,
  type User,
  type UserProfile,
  type UserStore,
} from './types.js';
