import type { Database } from 'better-sqlite3';
import { assertPageLimit } from '../lib/cursor.js';
import { applyRoleChange } from '../lib/users.js';
import { EmailTakenError, type User, type UserStore } from '../types.js';

interface UserRow {
  id: string;
  email: string;
  name: string | null;
  password_hash: string;
  roles: string;
  disabled_at: number | null;
  created_at: number;
  updated_at: number;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  name: r.name,
  passwordHash: r.password_hash,
  roles: JSON.parse(r.roles) as string[],
  disabledAt: r.disabled_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const COLUMNS = 'id, email, name, password_hash, roles, disabled_at, created_at, updated_at';

/** SQLite's message for the users.email constraint; it names no code finer than "UNIQUE". */
const isEmailTaken = (err: unknown): boolean =>
  err instanceof Error && (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE' && err.message.includes('users.email');

/**
 * SQLite {@link UserStore}. The UNIQUE constraint on `email` is what makes create atomic, across
 * processes too; role changes and deletion run in `BEGIN IMMEDIATE` transactions, which hold the
 * write lock from their first read, so a change made by another process cannot slip in between.
 */
export function createSqliteUserStore(db: Database): UserStore {
  const insert = db.prepare<[Record<keyof UserRow, string | number | null>]>(
    `INSERT INTO users (${COLUMNS}) VALUES (@id, @email, @name, @password_hash, @roles, @disabled_at, @created_at, @updated_at)`,
  );
  const byId = db.prepare<[string], UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = ?`);
  const byEmail = db.prepare<[string], UserRow>(`SELECT ${COLUMNS} FROM users WHERE email = ?`);
  // The WHERE on the old hash makes the change a compare-and-set, across processes too.
  const setPassword = db.prepare<[string, number, string, string]>(
    'UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?',
  );
  // Both read the UNIQUE index on email in order (BINARY collation: UTF-8 byte order).
  const firstPage = db.prepare<[number], UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY email LIMIT ?`);
  const pageAfter = db.prepare<[string, number], UserRow>(`SELECT ${COLUMNS} FROM users WHERE email > ? ORDER BY email LIMIT ?`);
  const rolesOf = db.prepare<[string], string>('SELECT roles FROM users WHERE id = ?').pluck();
  const setRoles = db.prepare<[string, number, string]>('UPDATE users SET roles = ?, updated_at = ? WHERE id = ?');
  const setDisabledAt = db.prepare<[number | null, number, string]>('UPDATE users SET disabled_at = ?, updated_at = ? WHERE id = ?');
  // Explicit rather than left to ON DELETE CASCADE, which depends on the connection's foreign_keys pragma.
  const deleteTokens = db.prepare<[string]>('DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = ?)');
  const deleteSessions = db.prepare<[string]>('DELETE FROM sessions WHERE user_id = ?');
  const deleteUser = db.prepare<[string]>('DELETE FROM users WHERE id = ?');

  const changeRoles = db.transaction((id: string, change: Parameters<UserStore['changeRoles']>[1], now: number) => {
    const stored = rolesOf.get(id);
    if (stored === undefined) return null;
    const roles = applyRoleChange(JSON.parse(stored) as string[], change);
    setRoles.run(JSON.stringify(roles), now, id);
    return roles;
  });

  const remove = db.transaction((id: string): boolean => {
    deleteTokens.run(id);
    deleteSessions.run(id);
    return deleteUser.run(id).changes === 1;
  });

  return {
    async create(user) {
      try {
        insert.run({
          id: user.id,
          email: user.email,
          name: user.name,
          password_hash: user.passwordHash,
          roles: JSON.stringify(user.roles),
          disabled_at: user.disabledAt,
          created_at: user.createdAt,
          updated_at: user.updatedAt,
        });
      } catch (err) {
        if (isEmailTaken(err)) throw new EmailTakenError();
        throw err;
      }
    },

    async findById(id) {
      const row = byId.get(id);
      return row ? toUser(row) : null;
    },

    async findByEmail(email) {
      const row = byEmail.get(email);
      return row ? toUser(row) : null;
    },

    async updatePassword(id, { from, to }, now) {
      return setPassword.run(to, now, id, from).changes === 1;
    },

    async list({ limit, after }) {
      assertPageLimit(limit);
      const rows = after === undefined ? firstPage.all(limit) : pageAfter.all(after, limit);
      return rows.map(toUser);
    },

    async changeRoles(id, change, now) {
      return changeRoles.immediate(id, change, now);
    },

    async setDisabled(id, disabledAt, now) {
      return setDisabledAt.run(disabledAt, now, id).changes === 1;
    },

    async delete(id) {
      return remove.immediate(id);
    },
  };
}
