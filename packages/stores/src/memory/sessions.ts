import { addToIndex, removeFromIndex } from '../lib/index-map.js';
import { listActivePage } from '../lib/session-list.js';
import type { Session, SessionStore, UserStore } from '../types.js';

/** The memory {@link SessionStore}, and how the user store drops a deleted user's sessions. */
export interface MemorySessionStore extends SessionStore {
  /** Deletes every session of the user. */
  deleteUser(userId: string): void;
}

/** In-process {@link SessionStore}. Each method runs synchronously, so revoke is atomic. */
export function createMemorySessionStore(users: Pick<UserStore, 'findById'>): MemorySessionStore {
  const byId = new Map<string, Session>();
  // Per-user index so listActive and revokeUser do not scan every session.
  const idsByUser = new Map<string, Set<string>>();

  const userSessions = (userId: string): Session[] =>
    [...(idsByUser.get(userId) ?? [])].map((id) => byId.get(id)).filter((s) => s !== undefined);

  return {
    async create(session) {
      if (byId.has(session.id)) throw new Error('a session with this id already exists');
      byId.set(session.id, { ...session });
      addToIndex(idsByUser, session.userId, session.id);
    },

    async get(id) {
      const session = byId.get(id);
      return session ? { ...session } : null;
    },

    async getWithUser(id) {
      const session = byId.get(id);
      if (!session) return null;
      const user = await users.findById(session.userId);
      return user
        ? {
            session: { ...session },
            user: { id: user.id, email: user.email, name: user.name, roles: user.roles, disabledAt: user.disabledAt },
          }
        : null;
    },

    async touch(id, lastSeenAt, idleExpiresAt) {
      const session = byId.get(id);
      if (!session || session.revokedAt !== null) return;
      session.lastSeenAt = lastSeenAt;
      session.idleExpiresAt = idleExpiresAt;
    },

    async listActive(userId, now, page) {
      const last = page?.after === undefined ? null : (byId.get(page.after) ?? null);
      return listActivePage(userSessions(userId), userId, now, page, last).map((s) => ({ ...s }));
    },

    async revoke(id, now) {
      const session = byId.get(id);
      if (!session || session.revokedAt !== null) return false;
      session.revokedAt = now;
      return true;
    },

    async revokeMany(ids, now) {
      const revoked: string[] = [];
      for (const id of ids) {
        const session = byId.get(id);
        if (!session || session.revokedAt !== null) continue;
        session.revokedAt = now;
        revoked.push(id);
      }
      return revoked;
    },

    async revokeUser(userId, now, exceptId) {
      const revoked: string[] = [];
      for (const session of userSessions(userId)) {
        if (session.revokedAt !== null || session.id === exceptId) continue;
        session.revokedAt = now;
        revoked.push(session.id);
      }
      return revoked;
    },

    deleteUser(userId) {
      for (const id of idsByUser.get(userId) ?? []) byId.delete(id);
      idsByUser.delete(userId);
    },

    async deleteExpired(before) {
      let deleted = 0;
      for (const [id, s] of byId) {
        const dead = s.idleExpiresAt < before || s.absoluteExpiresAt < before || (s.revokedAt !== null && s.revokedAt < before);
        if (!dead) continue;
        byId.delete(id);
        removeFromIndex(idsByUser, s.userId, id);
        deleted++;
      }
      return deleted;
    },
  };
}
