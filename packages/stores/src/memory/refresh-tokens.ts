import { addToIndex, removeFromIndex } from '../lib/index-map.js';
import type { RefreshStore, RefreshToken } from '../types.js';

/** The memory {@link RefreshStore}, and how the user store drops a deleted user's tokens. */
export interface MemoryRefreshStore extends RefreshStore {
  /** Deletes every refresh token of the user. */
  deleteUser(userId: string): void;
}

/**
 * In-process {@link RefreshStore}. `rotate` checks and updates with no `await` in between, so
 * of any number of concurrent calls exactly one sees the token unrotated.
 */
export function createMemoryRefreshStore(): MemoryRefreshStore {
  const byId = new Map<string, RefreshToken>();
  const idsByFamily = new Map<string, Set<string>>();

  const insert = (token: RefreshToken): void => {
    if (byId.has(token.id)) throw new Error('a refresh token with this id already exists');
    // The SQL backends enforce the same with a CHECK, so rotate can trust the pair.
    if ((token.rotatedAt === null) !== (token.successorId === null)) throw new Error('rotatedAt and successorId must be set together');
    byId.set(token.id, { ...token });
    addToIndex(idsByFamily, token.sessionId, token.id);
  };

  const remove = (token: RefreshToken): void => {
    byId.delete(token.id);
    removeFromIndex(idsByFamily, token.sessionId, token.id);
  };

  return {
    async create(token) {
      insert(token);
    },

    async get(id) {
      const token = byId.get(id);
      return token ? { ...token } : null;
    },

    async rotate(id, next, now) {
      const token = byId.get(id);
      if (!token) return { status: 'not-found' };
      if (token.rotatedAt !== null && token.successorId !== null) {
        return { status: 'already-rotated', rotatedAt: token.rotatedAt, successorId: token.successorId };
      }
      // Insert first: if the successor id is taken it throws and the old token stays live,
      // as the SQL backends' rolled-back transaction leaves it.
      insert(next);
      token.rotatedAt = now;
      token.successorId = next.id;
      return { status: 'rotated' };
    },

    async deleteFamily(sessionId) {
      const tokens = [...(idsByFamily.get(sessionId) ?? [])].map((id) => byId.get(id)).filter((t) => t !== undefined);
      for (const token of tokens) remove(token);
      return tokens.length;
    },

    deleteUser(userId) {
      // A scan: deleting a user is a rare administrative act, and tokens carry their user.
      for (const token of byId.values()) if (token.userId === userId) remove(token);
    },

    async deleteExpired(before) {
      let deleted = 0;
      for (const token of byId.values()) {
        if (token.expiresAt >= before) continue;
        remove(token);
        deleted++;
      }
      return deleted;
    },
  };
}
