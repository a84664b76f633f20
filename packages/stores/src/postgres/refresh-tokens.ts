import { isStoreUnavailable } from '../errors.js';
import { createTurnBatcher } from '../lib/turn-batch.js';
import type { RefreshStore, RefreshToken, RefreshWithOwner, Session, SessionStore } from '../types.js';
import type { PgQueryable } from './driver.js';
import { insertSessionSql, PROFILE_COLUMNS, SESSION_COLUMNS, sessionValues, toSessionWithUser, type WithUserRow } from './sessions.js';
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

/** The owner's columns (session, then profile) of the token-with-owner read, each named `o_…`. */
const OWNER_COLUMNS = [...SESSION_COLUMNS, ...PROFILE_COLUMNS];

/** A row of the token-with-owner read: the token's columns, then the owner's, null when the session or its user is missing. */
type WithOwnerRow = RefreshRow & { [K in (typeof OWNER_COLUMNS)[number] as `o_${K}`]: WithUserRow[K] | null };

const toWithOwner = (r: WithOwnerRow): RefreshWithOwner => ({
  token: toToken(r),
  // A session id means the join matched: every `o_` column then holds that session's and user's value.
  owner:
    r.o_id === null ? null : toSessionWithUser(Object.fromEntries(OWNER_COLUMNS.map((c) => [c, r[`o_${c}`]])) as unknown as WithUserRow),
});

/** Options of {@link createPostgresRefreshStore}. */
export interface PostgresRefreshOptions extends BatchedReadOptions {
  /**
   * The session store kept in the same schema: `getWithOwner` joins its table and
   * `createWithSession` inserts into it, each only for callers that pass this very store.
   * Default: none (neither method).
   */
  sessions?: SessionStore;
}

/**
 * PostgreSQL {@link RefreshStore}. A rotation is one statement, and so one transaction: a
 * compare-and-set UPDATE (`… WHERE rotated_at IS NULL`) feeding the successor's INSERT. Racing
 * rotations of one token queue on its row lock; each re-checks the WHERE on the winner's committed
 * row, finds it rotated and inserts nothing. If the INSERT fails (successor id taken), the whole
 * statement rolls back and the token stays live.
 *
 * Both halves of a refresh are batched per turn of the event loop (`lib/turn-batch.ts`): the
 * reads as the session lookup is (`batchedById`; `getWithOwner` joins the token's session and
 * user when they are kept here), and the rotations as one statement over arrays of them
 * (`unnest`), so the refreshes of one turn share one round trip and one commit. The batch claims
 * its rows without waiting (SKIP LOCKED), and two rotations of one token in it join the same row,
 * which PostgreSQL updates once, returning only the rotation it applied. Every rotation the batch
 * did not apply (lost, unknown, its row held elsewhere, or the batch failed on another's row: a
 * failed statement changes nothing) then runs the single statement above, so exactly one wins,
 * and an error fails only its own rotation. With `options.prepared` these are named prepared
 * statements, parsed and planned once per connection. A pooler that loses the name fails the
 * statement before it runs (26000, 42P05), so `hotStatement` running it again unnamed cannot
 * rotate twice. A login's `create` (or `createWithSession`: the session and the token in one
 * statement) is named too.
 */
export function createPostgresRefreshStore(db: PgQueryable, s: string, options: PostgresRefreshOptions = {}): RefreshStore {
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
  // The rotations of a turn. Each token's row is claimed without waiting (SKIP LOCKED): a row
  // another transaction holds (a rotation elsewhere, an account being deleted) is left out rather
  // than waited for, so it neither holds up the rest of the batch nor joins a lock cycle.
  const rotateMany = `WITH successor AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[],
        $8::text[], $9::text[], $10::bigint[], $11::text[], $12::text[]) AS n(${COLUMNS}, now, previous, caller)
    ), claimed AS (
      SELECT t.id FROM ${s}.refresh_tokens t WHERE t.id = ANY($11::text[]) AND t.rotated_at IS NULL
      FOR UPDATE SKIP LOCKED
    ), used AS (
      UPDATE ${s}.refresh_tokens t SET rotated_at = successor.now, successor_id = successor.id
      FROM successor JOIN claimed ON claimed.id = successor.previous
      WHERE t.id = claimed.id AND t.rotated_at IS NULL
      RETURNING successor.*
    ), inserted AS (
      INSERT INTO ${s}.refresh_tokens (${COLUMNS}) SELECT ${COLUMNS} FROM used
    )
    SELECT caller FROM used`;
  const lookup = batchedById<RefreshRow, RefreshToken>(db, byIds, toToken, options);
  // A refresh's reads in one: the token, its session and the session's user (both or neither,
  // as getWithUser's inner join), batched per turn as the other point reads are.
  const ownerColumns = [...SESSION_COLUMNS.map((c) => `s.${c} AS o_${c}`), ...PROFILE_COLUMNS.map((c) => `u.${c} AS o_${c}`)];
  const withOwner = `SELECT ${COLUMNS.split(', ')
    .map((c) => `r.${c}`)
    .join(', ')}, ${ownerColumns.join(', ')}
    FROM ${s}.refresh_tokens r
      LEFT JOIN (${s}.sessions s JOIN ${s}.users u ON u.id = s.user_id) ON s.id = r.session_id
    WHERE r.id = ANY($1::text[])`;
  const lookupWithOwner = batchedById<WithOwnerRow, RefreshWithOwner>(db, withOwner, toWithOwner, options);
  // A token login's session and its first refresh token: one statement, so one commit.
  const insertWithSession = `WITH session AS (${insertSessionSql(s, 10)}) ${insert}`;
  const runInsertWithSession = hotStatement(db, insertWithSession, options.prepared);
  const { sessions: sibling } = options;
  const runInsert = hotStatement(db, insert, options.prepared);
  const runRotate = hotStatement(db, rotate, options.prepared);
  const runRotateMany = hotStatement<{ caller: string }>(db, rotateMany, options.prepared);

  type Rotation = { id: string; next: RefreshToken; now: number };
  /** The rotations asked for in this turn, by caller key (a counter, so two callers never share one). */
  const pending = new Map<string, Rotation>();
  let callers = 0;
  /** The caller keys whose rotation the batch applied. */
  const rotateBatch = async (keys: string[]): Promise<Set<string>> => {
    const columns: unknown[][] = Array.from({ length: 12 }, () => []);
    for (const key of keys) {
      const r = pending.get(key) as Rotation;
      for (const [c, v] of [...values(r.next), r.now, r.id, key].entries()) (columns[c] as unknown[]).push(v);
    }
    try {
      return new Set((await runRotateMany(columns)).rows.map((r) => r.caller));
    } catch (err) {
      if (isStoreUnavailable(err)) throw err;
      // The statement changed nothing (a successor id taken, say): each rotation goes on alone.
      return new Set();
    }
  };
  const rotateInTurn = createTurnBatcher(rotateBatch, (won, key) => won.has(key));

  return {
    async create(token) {
      await runInsert(values(token));
    },

    get: lookup,

    ...(sibling && {
      async getWithOwner(id: string, sessions: SessionStore) {
        return sessions === sibling ? lookupWithOwner(id) : undefined;
      },
      async createWithSession(session: Session, token: RefreshToken, sessions: SessionStore) {
        if (sessions !== sibling) return false;
        await runInsertWithSession([...values(token), ...sessionValues(session)]);
        return true;
      },
    }),

    async rotate(id, next, now) {
      // Held until the answer: close() waits for every statement this rotation may still send.
      const release = options.hold?.();
      const key = String(callers++);
      pending.set(key, { id, next, now });
      try {
        if (await rotateInTurn(key)) return { status: 'rotated' };
        // Not applied by the batch: rotated already, unknown, its row held by another transaction
        // (left out, not waited for), or the batch failed on another rotation's row. Alone, the
        // rotation waits for the row's lock, and an error fails it alone.
        if (changed(await runRotate([...values(next), now, id])) === 1) return { status: 'rotated' };
        const { rows } = await db.query<{ rotated_at: string | null; successor_id: string | null }>(rotation, [id]);
        const row = rows[0];
        // rotated_at is never cleared once set, so a row that failed the WHERE above is rotated;
        // only its deletion (the family revoked meanwhile) leaves nothing to report.
        if (!row || row.rotated_at === null || row.successor_id === null) return { status: 'not-found' };
        return { status: 'already-rotated', rotatedAt: num(row.rotated_at), successorId: row.successor_id };
      } finally {
        pending.delete(key);
        release?.();
      }
    },

    async deleteFamily(sessionId) {
      return changed(await db.query(deleteFamily, [sessionId]));
    },

    async deleteExpired(before) {
      return changed(await db.query(deleteExpired, [before]));
    },
  };
}
