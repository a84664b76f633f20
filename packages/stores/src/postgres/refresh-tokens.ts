import type { RefreshStore, RefreshToken } from '../types.js';
import type { PgQueryable } from './driver.js';
import { type BatchedReadOptions, batchedById, changed, hotStatement, num, numOrNull } from './sql.js';

interface RefreshRow {
  id: string;
  session_id: string;
  user_id: string;
  secret_hash: string;
  created_at: string;
  expires_at: string;
  rotated_at: string | null;
  successor_id: string | null;
  scope: string | null;
}

const toToken = (r: RefreshRow): RefreshToken => ({
  id: r.id,
  sessionId: r.session_id,
  userId: r.user_id,
  secretHash: r.secret_hash,
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  rotatedAt: numOrNull(r.rotated_at),
  successorId: r.successor_id,
  scope: r.scope,
});

const values = (t: RefreshToken): unknown[] => [
  t.id,
  t.sessionId,
  t.userId,
  t.secretHash,
  t.createdAt,
  t.expiresAt,
  t.rotatedAt,
  t.successorId,
  t.scope,
];

const COLUMNS = 'id, session_id, user_id, secret_hash, created_at, expires_at, rotated_at, successor_id, scope';

/**
 * PostgreSQL {@link RefreshStore}. `rotate` is one statement, and so one transaction: a
 * compare-and-set UPDATE (`… WHERE rotated_at IS NULL`) feeding the successor's INSERT. Racing
 * rotations of one token queue on its row lock; each re-checks the WHERE on the winner's committed
 * row, finds it rotated and inserts nothing. If the INSERT fails (successor id taken), the whole
 * statement rolls back and the token stays live.
 *
 * A refresh reads its token (`get`) and then rotates it: `get` is batched per turn of the event
 * loop as the session lookup is (`batchedById`), and with `options.prepared` both it and `rotate`
 * are named prepared statements, parsed and planned once per connection. A pooler that loses the
 * name fails the statement before it runs (26000, 42P05), so `hotStatement` running it again
 * unnamed cannot rotate twice.
 */
export function createPostgresRefreshStore(db: PgQueryable, s: string, options: BatchedReadOptions = {}): RefreshStore {
  const insert = `INSERT INTO ${s}.refresh_tokens (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`;
  const byIds = `SELECT ${COLUMNS} FROM ${s}.refresh_tokens WHERE id = ANY($1::text[])`;
  const rotate = `WITH used AS (
      UPDATE ${s}.refresh_tokens SET rotated_at = $10, successor_id = $1 WHERE id = $11 AND rotated_at IS NULL RETURNING id
    )
    INSERT INTO ${s}.refresh_tokens (${COLUMNS})
    SELECT $1::text, $2::text, $3::text, $4::text, $5::bigint, $6::bigint, $7::bigint, $8::text, $9::text FROM used`;
  // A separate statement for the loser, so it reads with a snapshot taken after the winner's commit.
  const rotation = `SELECT rotated_at, successor_id FROM ${s}.refresh_tokens WHERE id = $1`;
  const deleteFamily = `DELETE FROM ${s}.refresh_tokens WHERE session_id = $1`;
  const deleteExpired = `DELETE FROM ${s}.refresh_tokens WHERE expires_at < $1`;
  const lookup = batchedById<RefreshRow, RefreshToken>(db, byIds, toToken, options);
  const runRotate = hotStatement(db, rotate, options.prepared);

  return {
    async create(token) {
      await db.query(insert, values(token));
    },

    get: lookup,

    async rotate(id, next, now) {
      if (changed(await runRotate([...values(next), now, id])) === 1) return { status: 'rotated' };
      const { rows } = await db.query<{ rotated_at: string | null; successor_id: string | null }>(rotation, [id]);
      const row = rows[0];
      // rotated_at is never cleared once set, so a row that failed the WHERE above is rotated;
      // only its deletion (the family revoked meanwhile) leaves nothing to report.
      if (!row || row.rotated_at === null || row.successor_id === null) return { status: 'not-found' };
      return { status: 'already-rotated', rotatedAt: num(row.rotated_at), successorId: row.successor_id };
    },

    async deleteFamily(sessionId) {
      return changed(await db.query(deleteFamily, [sessionId]));
    },

    async deleteExpired(before) {
      return changed(await db.query(deleteExpired, [before]));
    },
  };
}
