import { assertPageLimit } from '../lib/cursor.js';
import { applyRoleChange } from '../lib/users.js';
import { EmailTakenError, type User, type UserStore } from '../types.js';
import type { PgPoolLike } from './driver.js';
import { type BatchedReadOptions, batchedById, changed, hotStatement, num, numOrNull, storable, transaction } from './sql.js';

interface UserRow {
  id: string;
  email: string;
  name: string | null;
  password_hash: string;
  roles: string[];
  disabled_at: string | null;
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
  disabledAt: numOrNull(r.disabled_at),
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at),
});

const COLUMNS = 'id, email, name, password_hash, roles, disabled_at, created_at, updated_at';

/**
 * `after` as a bound PostgreSQL can take. Text cannot hold NUL, so no stored email contains one,
 * and the emails after `x\0…` are exactly those after `x`.
 */
const storableBound = (after: string): string => (storable(after) ? after : after.slice(0, after.indexOf('\0')));

/**
 * PostgreSQL {@link UserStore}. The UNIQUE constraint on `email` makes create atomic across
 * nodes; the password change is one conditional UPDATE, which re-checks its WHERE on the row
 * after waiting for a concurrent writer's lock, so of racing changes from one hash one wins.
 * A role change reads the row `FOR UPDATE` and writes it in one transaction: a concurrent change,
 * from any node, waits for the lock and then reads the committed roles, so none is lost.
 *
 * `findById` is batched per turn of the event loop (see `lib/turn-batch.ts`), as the session
 * lookup is: it is the second read of every request authenticated by a session kept in Redis. The
 * ids asked for in one turn go to the database as one `… WHERE id = ANY($1)`, sent after the last
 * of them was asked for, so nothing is cached and each answer is as fresh as an unbatched read;
 * if the statement fails, each caller of its batch fails with the driver's error.
 */
export function createPostgresUserStore(pool: PgPoolLike, s: string, options: BatchedReadOptions = {}): UserStore {
  // A taken email inserts nothing rather than failing: pg's pool closes the connection after any
  // failed statement, and a new one is a PostgreSQL backend forked (tens of milliseconds) for
  // every sign-up with an email already registered.
  const insert = `INSERT INTO ${s}.users (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (email) DO NOTHING`;
  const byIds = `SELECT ${COLUMNS} FROM ${s}.users WHERE id = ANY($1::text[])`;
  const byEmail = `SELECT ${COLUMNS} FROM ${s}.users WHERE email = $1`;
  const setPassword = `UPDATE ${s}.users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND password_hash = $4`;
  // The email column's collation is "C": byte order, read straight from the unique index.
  const firstPage = `SELECT ${COLUMNS} FROM ${s}.users ORDER BY email LIMIT $1`;
  const pageAfter = `SELECT ${COLUMNS} FROM ${s}.users WHERE email > $1 ORDER BY email LIMIT $2`;
  const lockRoles = `SELECT roles FROM ${s}.users WHERE id = $1 FOR UPDATE`;
  const setRoles = `UPDATE ${s}.users SET roles = $1, updated_at = $2 WHERE id = $3`;
  const setDisabled = `UPDATE ${s}.users SET disabled_at = $1, updated_at = $2 WHERE id = $3`;
  // refresh_tokens has no key to sessions (they may live in Redis), so its rows go by user_id.
  // That column has no index of its own: a scan, paid by this rare administrative act rather than
  // an index update on every token rotation.
  const deleteTokens = `DELETE FROM ${s}.refresh_tokens WHERE user_id = $1`;
  const deleteSessions = `DELETE FROM ${s}.sessions WHERE user_id = $1`;
  const deleteUser = `DELETE FROM ${s}.users WHERE id = $1`;
  const lookup = batchedById<UserRow, User>(pool, byIds, toUser, options);
  // Every login reads its user by email: a named statement when allowed, as the batched reads are.
  const runByEmail = hotStatement<UserRow>(pool, byEmail, options.prepared);

  return {
    async create(user) {
      const { id, email, name, passwordHash, roles, disabledAt, createdAt, updatedAt } = user;
      const created = changed(await pool.query(insert, [id, email, name, passwordHash, roles, disabledAt, createdAt, updatedAt]));
      if (created === 0) throw new EmailTakenError();
    },

    findById: lookup,

    async findByEmail(email) {
      const { rows } = await runByEmail([email]);
      return rows[0] ? toUser(rows[0]) : null;
    },

    async updatePassword(id, { from, to }, now) {
      return changed(await pool.query(setPassword, [to, now, id, from])) === 1;
    },

    async list({ limit, after }) {
      assertPageLimit(limit);
      const { rows } =
        after === undefined
          ? await pool.query<UserRow>(firstPage, [limit])
          : await pool.query<UserRow>(pageAfter, [storableBound(after), limit]);
      return rows.map(toUser);
    },

    async changeRoles(id, change, now) {
      if (!storable(id)) return null;
      return transaction(pool, async (db) => {
        const { rows } = await db.query<{ roles: string[] }>(lockRoles, [id]);
        if (!rows[0]) return null;
        const roles = applyRoleChange(rows[0].roles, change);
        await db.query(setRoles, [roles, now, id]);
        return roles;
      });
    },

    async setDisabled(id, disabledAt, now) {
      if (!storable(id)) return false;
      return changed(await pool.query(setDisabled, [disabledAt, now, id])) === 1;
    },

    async delete(id) {
      if (!storable(id)) return false;
      return transaction(pool, async (db) => {
        await db.query(deleteTokens, [id]);
        await db.query(deleteSessions, [id]);
        return changed(await db.query(deleteUser, [id])) === 1;
      });
    },
  };
}
