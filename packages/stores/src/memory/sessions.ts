import { assertPageLimit } from '../lib/cursor.js';
import { addToIndex, removeFromIndex } from '../lib/index-map.js';
import type { Session, SessionStore, UserStore } from '../types.js';

/** Active at `now`: not revoked, and both expiries still ahead (an expiry instant is already expired). */
const isActive = (s: Session, now: number): boolean => s.revokedAt === null && s.idleExpiresAt > now && s.absoluteExpiresAt > now;

/** Newest first; the id breaks ties so the order is the same on every backend. */
const newestFirst = (a: Session, b: Session): number => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** In-process {@link SessionStore}. Each method runs synchronously, so revoke is atomic. */
export function createMemorySessionStore(users: Pick<UserStore, 'findById'>): SessionStore {
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
      return user ? { session: { ...session }, user: { id: user.id, email: user.email, name: user.name, roles: user.roles } } : null;
    },

    async touch(id, lastSeenAt, idleExpiresAt) {
      const session = byId.get(id);
      if (!session || session.revokedAt !== null) return;
      session.lastSeenAt = lastSeenAt;
      session.idleExpiresAt = idleExpiresAt;
    },

    async listActive(userId, now, page) {
      let active = userSessions(userId)
        .filter((s) => isActive(s, now))
        .sort(newestFirst);
      if (page) {
        assertPageLimit(page.limit);
        if (page.after !== undefined) {
          const last = byId.get(page.after);
          if (!last || last.userId !== userId) return [];
          active = active.filter((s) => newestFirst(last, s) < 0);
        }
        active = active.slice(0, page.limit);
      }
      return active.map((s) => ({ ...s }));
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
