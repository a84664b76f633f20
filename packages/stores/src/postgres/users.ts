import { EmailTakenError, type User, type UserStore } from '../types.js';
import type { PgQueryable } from './driver.js';
import { type BatchedReadOptions, batchedById, changed, num } from './sql.js';

interface UserRow {
  id: string;
  email: string;
  name: string | null;
  password_hash: string;
  roles: string[];
  created_at: string;
  updated_at: string;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  name: r.name,
  passwordHash: r.password_hash,
  // A copy: one row may answer several callers of a batch, and none may change another's user.
  roles: [...r.roles],
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at),
});

/** unique_violation on the email constraint; a duplicate id violates the primary key instead and is a bug, not a race. */
const isEmailTaken = (err: unknown): boolean => {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && e.constraint === 'users_email_unique';
};

/**
 * PostgreSQL {@link UserStore}. The UNIQUE constraint on `email` makes create atomic across
 * nodes; the password change is one conditional UPDATE, which re-checks its WHERE on the row
 * after waiting for a concurrent writer's lock, so of racing changes from one hash one wins.
 *
 * `findById` is batched per turn of the event loop (see `lib/turn-batch.ts`), as the session
 * lookup is: it is the second read of every request authenticated by a session kept in Redis. The
 * ids asked for in one turn go to the database as one `… WHERE id = ANY($1)`, sent after the last
 * of them was asked for, so nothing is cached and each answer is as fresh as an unbatched read;
 * if the statement fails, each caller of its batch fails with the driver's error.
 */
export function createPostgresUserStore(db: PgQueryable, s: string, options: BatchedReadOptions = {}): UserStore {
  const insert = `INSERT INTO ${s}.users (id, email, name, password_hash, roles, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)`;
  const byIds = `SELECT * FROM ${s}.users WHERE id = ANY($1::text[])`;
  const byEmail = `SELECT * FROM ${s}.users WHERE email = $1`;
  const setPassword = `UPDATE ${s}.users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND password_hash = $4`;
  const lookup = batchedById<UserRow, User>(db, byIds, toUser, options);

  return {
    async create(user) {
      try {
        await db.query(insert, [user.id, user.email, user.name, user.passwordHash, user.roles, user.createdAt, user.updatedAt]);
      } catch (err) {
        if (isEmailTaken(err)) throw new EmailTakenError();
        throw err;
      }
    },

    findById: lookup,

    async findByEmail(email) {
      const { rows } = await db.query<UserRow>(byEmail, [email]);
      return rows[0] ? toUser(rows[0]) : null;
    },

    async updatePassword(id, { from, to }, now) {
      return changed(await db.query(setPassword, [to, now, id, from])) === 1;
    },
  };
}
