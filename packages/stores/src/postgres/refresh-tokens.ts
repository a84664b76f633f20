import { isStoreUnavailable } from '../errors.js';
import { createTurnBatcher } from '../lib/turn-batch.js';
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
 * PostgreSQL {@link RefreshStore}. A rotation is one statement, and so one transaction: a
 * compare-and-set UPDATE (`… WHERE rotated_at IS NULL`) feeding the successor's INSERT. Racing
 * rotations of one token queue on its row lock; each re-checks the WHERE on the winner's committed
 * row, finds it rotated and inserts nothing. If the INSERT fails (successor id taken), the whole
 * statement rolls back and the token stays live.
 *
 * Both halves of a refresh are batched per turn of the event loop (`lib/turn-batch.ts`): `get`
 * as the session lookup is (`batchedById`), and `rotate` as one statement over arrays of
 * rotations (`unnest`), so the refreshes of one turn share one round trip and one commit. Within
 * a batch, two rotations of one token join the same row: PostgreSQL updates it once, and returns
 * only the rotation it applied, so exactly one wins there too. A batch that fails for a reason of
 * its own rows (a successor id taken) changed nothing, and its rotations run again one by one, so
 * only the offending one fails. With `options.prepared` these are named prepared statements,
 * parsed and planned once per connection. A pooler that loses the name fails the statement before
 * it runs (26000, 42P05), so `hotStatement` running it again unnamed cannot rotate twice. A
 * login's `create` is named too.
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
  const rotateMany = `WITH successor AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[],
        $8::text[], $9::text[], $10::bigint[], $11::text[], $12::text[]) AS n(${COLUMNS}, now, previous, caller)
    ), used AS (
      UPDATE ${s}.refresh_tokens t SET rotated_at = successor.now, successor_id = successor.id
      FROM successor WHERE t.id = successor.previous AND t.rotated_at IS NULL
      RETURNING successor.*
    ), inserted AS (
      INSERT INTO ${s}.refresh_tokens (${COLUMNS}) SELECT ${COLUMNS} FROM used
    )
    SELECT caller FROM used`;
  const lookup = batchedById<RefreshRow, RefreshToken>(db, byIds, toToken, options);
  const runInsert = hotStatement(db, insert, options.prepared);
  const runRotate = hotStatement(db, rotate, options.prepared);
  const runRotateMany = hotStatement<{ caller: string }>(db, rotateMany, options.prepared);

  type Rotation = { id: string; next: RefreshToken; now: number };
  /** The rotations asked for in this turn, by caller key (a counter, so two callers never share one). */
  const pending = new Map<string, Rotation>();
  let callers = 0;
  /** Per caller key: whether its rotation was applied, or the error of running it alone. */
  const rotateBatch = async (keys: string[]): Promise<Map<string, boolean | Error>> => {
    // In token order, so that two nodes' batches lock the rows they share in the same order.
    const batch = keys
      .map((key): [string, Rotation] => [key, pending.get(key) as Rotation])
      .sort(([, a], [, b]) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const outcome = new Map<string, boolean | Error>();
    try {
      const columns: unknown[][] = Array.from({ length: 12 }, () => []);
      for (const [key, r] of batch) {
        for (const [c, v] of [...values(r.next), r.now, r.id, key].entries()) (columns[c] as unknown[]).push(v);
      }
      const won = new Set((await runRotateMany(columns)).rows.map((r) => r.caller));
      for (const key of keys) outcome.set(key, won.has(key));
    } catch (err) {
      if (isStoreUnavailable(err) || batch.length === 1) throw err;
      // The statement changed nothing (a successor id taken, a deadlock with another node's
      // batch): each rotation runs again on its own, so only a bad one fails.
      await Promise.all(
        batch.map(async ([key, r]) => {
          try {
            outcome.set(key, changed(await runRotate([...values(r.next), r.now, r.id])) === 1);
          } catch (single) {
            outcome.set(key, single instanceof Error ? single : new Error(String(single)));
          }
        }),
      );
    }
    return outcome;
  };
  const rotateInTurn = createTurnBatcher(
    rotateBatch,
    (outcome, key) => {
      const result = outcome.get(key);
      if (result instanceof Error) throw result;
      return result === true;
    },
    options.hold ? { hold: options.hold } : {},
  );

  return {
    async create(token) {
      await runInsert(values(token));
    },

    get: lookup,

    async rotate(id, next, now) {
      const key = String(callers++);
      pending.set(key, { id, next, now });
      let rotated: boolean;
      try {
        rotated = await rotateInTurn(key);
      } finally {
        pending.delete(key);
      }
      if (rotated) return { status: 'rotated' };
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
