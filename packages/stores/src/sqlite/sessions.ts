import type { Database } from 'better-sqlite3';
import { assertPageLimit } from '../lib/cursor.js';
import type { Session, SessionKind, SessionStore, UserProfile } from '../types.js';
import { createReadBatcher } from './read-batch.js';

interface SessionRow {
  id: string;
  user_id: string;
  kind: SessionKind;
  secret_hash: string | null;
  csrf_token: string | null;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  user_agent: string | null;
  ip: string | null;
  revoked_at: number | null;
}

/** A row of the session-and-user read, in its column order. */
type WithUserRow = [
  id: string,
  userId: string,
  kind: SessionKind,
  secretHash: string | null,
  csrfToken: string | null,
  createdAt: number,
  lastSeenAt: number,
  idleExpiresAt: number,
  absoluteExpiresAt: number,
  userAgent: string | null,
  ip: string | null,
  revokedAt: number | null,
  email: string,
  name: string | null,
  roles: string,
  disabledAt: number | null,
];

const toSession = (r: SessionRow): Session => ({
  id: r.id,
  userId: r.user_id,
  kind: r.kind,
  secretHash: r.secret_hash,
  csrfToken: r.csrf_token,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  idleExpiresAt: r.idle_expires_at,
  absoluteExpiresAt: r.absolute_expires_at,
  userAgent: r.user_agent,
  ip: r.ip,
  revokedAt: r.revoked_at,
});

const toRow = (s: Session): SessionRow => ({
  id: s.id,
  user_id: s.userId,
  kind: s.kind,
  secret_hash: s.secretHash,
  csrf_token: s.csrfToken,
  created_at: s.createdAt,
  last_seen_at: s.lastSeenAt,
  idle_expires_at: s.idleExpiresAt,
  absolute_expires_at: s.absoluteExpiresAt,
  user_agent: s.userAgent,
  ip: s.ip,
  revoked_at: s.revokedAt,
});

/**
 * SQLite {@link SessionStore}. Every write is a single conditional statement, so revoke and
 * revokeUser are atomic without an explicit transaction.
 */
export function createSqliteSessionStore(db: Database): SessionStore {
  const insert = db.prepare<[SessionRow]>(
    `INSERT INTO sessions (id, user_id, kind, secret_hash, csrf_token, created_at, last_seen_at,
       idle_expires_at, absolute_expires_at, user_agent, ip, revoked_at)
     VALUES (@id, @user_id, @kind, @secret_hash, @csrf_token, @created_at, @last_seen_at,
       @idle_expires_at, @absolute_expires_at, @user_agent, @ip, @revoked_at)`,
  );
  const byId = db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?');
  // The hot read of every cookie-authenticated request: named columns in raw (array) mode,
  // which saves better-sqlite3 building an object per row only for us to rename its fields.
  const withUser = db
    .prepare<[string], WithUserRow>(
      `SELECT s.id, s.user_id, s.kind, s.secret_hash, s.csrf_token, s.created_at, s.last_seen_at, s.idle_expires_at,
         s.absolute_expires_at, s.user_agent, s.ip, s.revoked_at, u.email, u.name, u.roles, u.disabled_at
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`,
    )
    .raw(true);
  const touch = db.prepare<[number, number, string]>(
    'UPDATE sessions SET last_seen_at = ?, idle_expires_at = ? WHERE id = ? AND revoked_at IS NULL',
  );
  // Same expiry rule as the memory store: an expiry instant is already expired.
  const active = db.prepare<[string, number, number], SessionRow>(
    `SELECT * FROM sessions
     WHERE user_id = ? AND revoked_at IS NULL AND idle_expires_at > ? AND absolute_expires_at > ?
     ORDER BY created_at DESC, id DESC`,
  );
  // A page: the same order, after the (created_at, id) of the previous page's last session; a
  // cursor naming no session of this user compares with NULL and so selects nothing.
  const activePage = db.prepare<[string, number, number, string | null, string | null, string, number], SessionRow>(
    `SELECT * FROM sessions
     WHERE user_id = ? AND revoked_at IS NULL AND idle_expires_at > ? AND absolute_expires_at > ?
       AND (? IS NULL OR (created_at, id) < (SELECT created_at, id FROM sessions WHERE id = ? AND user_id = ?))
     ORDER BY created_at DESC, id DESC LIMIT ?`,
  );
  const revoke = db.prepare<[number, string]>('UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  // Under the write lock from the first statement, so no other process revokes one in between.
  const revokeMany = db.transaction((ids: readonly string[], now: number) => ids.filter((id) => revoke.run(now, id).changes === 1));
  // `IS NOT` (not `<>`) so a NULL exceptId excludes nothing.
  const revokeUser = db.prepare<[number, string, string | null], { id: string }>(
    'UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id IS NOT ? RETURNING id',
  );
  // The min() expression matches the sessions_expires_at index exactly, so the planner uses it.
  const deleteExpired = db.prepare<[number, number]>(
    'DELETE FROM sessions WHERE min(idle_expires_at, absolute_expires_at) < ? OR revoked_at < ?',
  );

  const readWithUser = (id: string): { session: Session; user: UserProfile } | null => {
    const r = withUser.get(id);
    if (!r) return null;
    const session: Session = {
      id: r[0],
      userId: r[1],
      kind: r[2],
      secretHash: r[3],
      csrfToken: r[4],
      createdAt: r[5],
      lastSeenAt: r[6],
      idleExpiresAt: r[7],
      absoluteExpiresAt: r[8],
      userAgent: r[9],
      ip: r[10],
      revokedAt: r[11],
    };
    return {
      session,
      user: { id: r[1], email: r[12], name: r[13], roles: r[14] === '[]' ? [] : (JSON.parse(r[14]) as string[]), disabledAt: r[15] },
    };
  };
  // Every cookie-authenticated request makes this read: concurrent ones share a read transaction.
  const batch = createReadBatcher(db);

  return {
    async create(session) {
      insert.run(toRow(session));
    },

    async get(id) {
      const row = byId.get(id);
      return row ? toSession(row) : null;
    },

    getWithUser(id) {
      return batch(() => readWithUser(id));
    },

    async touch(id, lastSeenAt, idleExpiresAt) {
      touch.run(lastSeenAt, idleExpiresAt, id);
    },

    async listActive(userId, now, page) {
      if (!page) return active.all(userId, now, now).map(toSession);
      assertPageLimit(page.limit);
      const after = page.after ?? null;
      return activePage.all(userId, now, now, after, after, userId, page.limit).map(toSession);
    },

    async revoke(id, now) {
      return revoke.run(now, id).changes === 1;
    },

    async revokeMany(ids, now) {
      return ids.length === 0 ? [] : revokeMany.immediate(ids, now);
    },

    async revokeUser(userId, now, exceptId) {
      return revokeUser.all(now, userId, exceptId ?? null).map((r) => r.id);
    },

    async deleteExpired(before) {
      return deleteExpired.run(before, before).changes;
    },
  };
}
