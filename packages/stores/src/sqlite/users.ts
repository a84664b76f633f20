import type { Database } from 'better-sqlite3';
import { EmailTakenError, type User, type UserStore } from '../types.js';

interface UserRow {
  id: string;
  email: string;
  name: string | null;
  password_hash: string;
  roles: string;
  created_at: number;
  updated_at: number;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  name: r.name,
  passwordHash: r.password_hash,
  roles: JSON.parse(r.roles) as string[],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** SQLite's message for the users.email constraint; it names no code finer than "UNIQUE". */
const isEmailTaken = (err: unknown): boolean =>
  err instanceof Error && (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE' && err.message.includes('users.email');

/** SQLite {@link UserStore}. The UNIQUE constraint on `email` is what makes create atomic, across processes too. */
export function createSqliteUserStore(db: Database): UserStore {
  const insert = db.prepare<[Record<keyof UserRow, string | number | null>]>(
    `INSERT INTO users (id, email, name, password_hash, roles, created_at, updated_at)
     VALUES (@id, @email, @name, @password_hash, @roles, @created_at, @updated_at)`,
  );
  const byId = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?');
  const byEmail = db.prepare<[string], UserRow>('SELECT * FROM users WHERE email = ?');
  // The WHERE on the old hash makes the change a compare-and-set, across processes too.
  const setPassword = db.prepare<[string, number, string, string]>(
    'UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?',
  );

  return {
    async create(user) {
      try {
        insert.run({
          id: user.id,
          email: user.email,
          name: user.name,
          password_hash: user.passwordHash,
          roles: JSON.stringify(user.roles),
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
  };
}
