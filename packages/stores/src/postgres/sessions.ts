import { assertPageLimit } from '../lib/cursor.js';
import type { ActiveSessionsWithAccount, Session, SessionKind, SessionStore, UserProfile } from '../types.js';
import type { PgQueryable } from './driver.js';
import { type BatchedReadOptions, batchedById, changed, hotStatement, num, numOrNull } from './sql.js';

export interface SessionRow {
  id: string;
  user_id: string;
  kind: SessionKind;
  secret_hash: string | null;
  csrf_token: string | null;
  created_at: string;
  last_seen_at: string;
  idle_expires_at: string;
  absolute_expires_at: string;
  user_agent: string | null;
  ip: string | null;
  revoked_at: string | null;
}

/** A row of `listActiveWithAccount`: the user's account columns, and a session's (all NULL when the user has none). */
interface AccountAndSessionRow extends SessionRow {
  a_password_hash: string;
  a_disabled_at: string | null;
}

/** A row of the session-and-user read: the session's columns and the user's profile. */
export interface WithUserRow extends SessionRow {
  email: string;
  name: string | null;
  roles: string[];
  disabled_at: string | null;
}

const toSession = (r: SessionRow): Session => ({
  id: r.id,
  userId: r.user_id,
  kind: r.kind,
  secretHash: r.secret_hash,
  csrfToken: r.csrf_token,
  createdAt: num(r.created_at),
  lastSeenAt: num(r.last_seen_at),
  idleExpiresAt: num(r.idle_expires_at),
  absoluteExpiresAt: num(r.absolute_expires_at),
  userAgent: r.user_agent,
  ip: r.ip,
  revokedAt: numOrNull(r.revoked_at),
});

/** The session and its user's profile, built afresh for each caller (callers may change the session they get). */
export const toSessionWithUser = (r: WithUserRow): { session: Session; user: UserProfile } => ({
  session: toSession(r),
  user: { id: r.user_id, email: r.email, name: r.name, roles: [...r.roles], disabledAt: numOrNull(r.disabled_at) },
});

/** The session's columns, as the `sessions` table and a {@link SessionRow} name them. */
export const SESSION_COLUMNS = [
  'id',
  'user_id',
  'kind',
  'secret_hash',
  'csrf_token',
  'created_at',
  'last_seen_at',
  'idle_expires_at',
  'absolute_expires_at',
  'user_agent',
  'ip',
  'revoked_at',
] as const satisfies readonly (keyof SessionRow)[];
/** The user's profile columns of a {@link WithUserRow}. */
export const PROFILE_COLUMNS = ['email', 'name', 'roles', 'disabled_at'] as const satisfies readonly (keyof WithUserRow)[];

const COLUMNS = SESSION_COLUMNS.join(', ');
/** The session's columns qualified by the alias `s`, for reads that join. */
const S_COLUMNS = SESSION_COLUMNS.map((c) => `s.${c}`).join(', ');

/** The INSERT of one session into schema `s`, its values taken from `$first` on in {@link sessionValues}' order. */
export const insertSessionSql = (s: string, first = 1): string =>
  `INSERT INTO ${s}.sessions (${COLUMNS}) VALUES (${SESSION_COLUMNS.map((_, i) => `$${first + i}`).join(', ')})`;

/** A session's values in the order of {@link SESSION_COLUMNS}. */
export const sessionValues = (session: Session): unknown[] => [
  session.id,
  session.userId,
  session.kind,
  session.secretHash,
  session.csrfToken,
  session.createdAt,
  session.lastSeenAt,
  session.idleExpiresAt,
  session.absoluteExpiresAt,
  session.userAgent,
  session.ip,
  session.revokedAt,
];

/**
 * PostgreSQL {@link SessionStore}. Every write is one statement; a conditional UPDATE re-checks its
 * WHERE on each row after waiting for a concurrent writer's lock, so `revoked_at IS NULL` lets
 * exactly one of racing revocations (from any node) claim each session.
 *
 * `getWithUser`, the read of every cookie-authenticated request, is batched per turn of the event
 * loop (see `lib/turn-batch.ts`): the lookups asked for in one turn go to the database as one
 * statement, `… WHERE s.id = ANY($1)`, sent after the last of them was asked for. Nothing is
 * cached, so a revocation committed before a lookup was asked for is seen by it; if the statement
 * fails, each lookup of its batch fails with the driver's error (an outage is still an outage to
 * `isStoreUnavailable`); an id that could fail the statement for the others (a NUL) never joins one.
 *
 * With `options.prepared` the statement is a named prepared statement: parsing and planning the
 * join cost PostgreSQL more than running it, and batching alone still pays them once per batch.
 * So are the statements of every login: `create`, and the cap's `listActiveWithAccount` (or
 * `listActive`). A pooler that moves them away from their connection turns that off (see
 * `hotStatement`).
 *
 * `getWithUser` and `listActiveWithAccount` read the `users` table of the same schema: this store
 * serves the users of the PostgreSQL user store beside it (as `createPostgresStores` pairs them).
 */
export function createPostgresSessionStore(db: PgQueryable, s: string, options: BatchedReadOptions = {}): SessionStore {
  const insert = insertSessionSql(s);
  const byId = `SELECT ${COLUMNS} FROM ${s}.sessions WHERE id = $1`;
  // The per-request read of cookie sessions, for a turn's worth of them: one round trip, two
  // primary-key lookups per session. Duplicates are removed before, so each id matches one row.
  const withUser = `SELECT ${S_COLUMNS}, ${PROFILE_COLUMNS.map((c) => `u.${c}`).join(', ')}
    FROM ${s}.sessions s JOIN ${s}.users u ON u.id = s.user_id WHERE s.id = ANY($1::text[])`;
  const touch = `UPDATE ${s}.sessions SET last_seen_at = $1, idle_expires_at = $2 WHERE id = $3 AND revoked_at IS NULL`;
  // Same expiry rule as the memory store: an expiry instant is already expired.
  const active = `SELECT ${COLUMNS} FROM ${s}.sessions
    WHERE user_id = $1 AND revoked_at IS NULL AND idle_expires_at > $2 AND absolute_expires_at > $2
    ORDER BY created_at DESC, id DESC`;
  // The same list and, in the same snapshot, the user's password hash and disabled mark: one row
  // per session (account columns repeated), or one row of NULL session columns for a user with
  // none, or no row for no user.
  const activeWithAccount = `SELECT u.password_hash AS a_password_hash, u.disabled_at AS a_disabled_at, ${S_COLUMNS}
    FROM ${s}.users u LEFT JOIN ${s}.sessions s
      ON s.user_id = u.id AND s.revoked_at IS NULL AND s.idle_expires_at > $2 AND s.absolute_expires_at > $2
    WHERE u.id = $1
    ORDER BY s.created_at DESC, s.id DESC`;
  // A page: the same order, after the (created_at, id) of the previous page's last session; a
  // cursor naming no session of this user compares with NULL and so selects nothing.
  const activePage = `SELECT ${COLUMNS} FROM ${s}.sessions
    WHERE user_id = $1 AND revoked_at IS NULL AND idle_expires_at > $2 AND absolute_expires_at > $2
      AND ($3::text IS NULL OR (created_at, id) < (SELECT created_at, id FROM ${s}.sessions WHERE id = $3 AND user_id = $1))
    ORDER BY created_at DESC, id DESC LIMIT $4`;
  const revoke = `UPDATE ${s}.sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`;
  // One statement, so all or none of the listed sessions are revoked by it, and each one that
  // another call revoked meanwhile fails the re-checked WHERE and is left to that call.
  const revokeMany = `UPDATE ${s}.sessions SET revoked_at = $1 WHERE id = ANY($2::text[]) AND revoked_at IS NULL RETURNING id`;
  const revokeUser = `UPDATE ${s}.sessions SET revoked_at = $1
    WHERE user_id = $2 AND revoked_at IS NULL AND id IS DISTINCT FROM $3 RETURNING id`;
  // The least() expression matches the sessions_expires_at index exactly, so the planner can use it.
  const deleteExpired = `DELETE FROM ${s}.sessions WHERE least(idle_expires_at, absolute_expires_at) < $1 OR revoked_at < $1`;
  const lookupWithUser = batchedById<WithUserRow, { session: Session; user: UserProfile }>(db, withUser, toSessionWithUser, options);
  const runInsert = hotStatement(db, insert, options.prepared);
  const runActive = hotStatement<SessionRow>(db, active, options.prepared);
  const runActiveWithAccount = hotStatement<AccountAndSessionRow>(db, activeWithAccount, options.prepared);

  return {
    async create(session) {
      await runInsert(sessionValues(session));
    },

    async get(id) {
      const { rows } = await db.query<SessionRow>(byId, [id]);
      return rows[0] ? toSession(rows[0]) : null;
    },

    getWithUser: lookupWithUser,

    async touch(id, lastSeenAt, idleExpiresAt) {
      await db.query(touch, [lastSeenAt, idleExpiresAt, id]);
    },

    async listActive(userId, now, page) {
      if (!page) return (await runActive([userId, now])).rows.map(toSession);
      assertPageLimit(page.limit);
      return (await db.query<SessionRow>(activePage, [userId, now, page.after ?? null, page.limit])).rows.map(toSession);
    },

    async listActiveWithAccount(userId, now): Promise<ActiveSessionsWithAccount> {
      const { rows } = await runActiveWithAccount([userId, now]);
      const first = rows[0];
      if (!first) return { account: null, sessions: [] };
      return {
        account: { passwordHash: first.a_password_hash, disabledAt: numOrNull(first.a_disabled_at) },
        // A user with no live session has one row, whose session columns are all NULL.
        sessions: rows.filter((r) => r.id !== null).map(toSession),
      };
    },

    async revoke(id, now) {
      return changed(await db.query(revoke, [now, id])) === 1;
    },

    async revokeMany(ids, now) {
      if (ids.length === 0) return [];
      return (await db.query<{ id: string }>(revokeMany, [now, ids])).rows.map((r) => r.id);
    },

    async revokeUser(userId, now, exceptId) {
      return (await db.query<{ id: string }>(revokeUser, [now, userId, exceptId ?? null])).rows.map((r) => r.id);
    },

    async deleteExpired(before) {
      return changed(await db.query(deleteExpired, [before]));
    },
  };
}
