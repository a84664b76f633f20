import type { Stores } from '../types.js';
import { createMemoryKeyStore } from './keys.js';
import { createMemoryRateLimitStore } from './rate-limits.js';
import { createMemoryRefreshStore } from './refresh-tokens.js';
import { createMemoryRevocationStore } from './revocations.js';
import { createMemorySessionStore } from './sessions.js';
import { createMemoryUserStore } from './users.js';

/**
 * Every store, held in this process (tests, demos, a single throwaway node). Nothing survives a
 * restart. Each operation runs synchronously inside its async method, which is what makes the
 * atomic guarantees hold: no other call can run between a check and its write.
 *
 * @example
 * const stores = createMemoryStores();
 * await stores.users.create(user);
 */
export function createMemoryStores(): Stores {
  let closed = false;
  const users = createMemoryUserStore((userId) => {
    deleteUserSessions(userId);
    deleteUserTokens(userId);
  });
  // Only the interfaces' methods are handed out; the deletion hooks stay internal.
  const { deleteUser: deleteUserSessions, ...sessions } = createMemorySessionStore(users);
  const { deleteUser: deleteUserTokens, ...refreshTokens } = createMemoryRefreshStore();
  return {
    users,
    sessions,
    refreshTokens,
    keys: createMemoryKeyStore(),
    revocations: createMemoryRevocationStore(),
    rateLimits: createMemoryRateLimitStore(),
    async ping() {
      // Readiness should fail after shutdown began, as it does for a closed database.
      if (closed) throw new Error('stores are closed');
    },
    async close() {
      closed = true;
    },
  };
}
