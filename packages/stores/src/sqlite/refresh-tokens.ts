import type { Database } from 'better-sqlite3';
import type { RefreshStore, RefreshToken, RotateResult } from '../types.js';

interface RefreshRow {
  id: string;
  session_id: string;
  user_id: string;
  secret_hash: string;
  created_at: number;
  expires_at: number;
  rotated_at: number | null;
  successor_id: string | null;
  scope: string | null;
}

const toToken = (r: RefreshRow): RefreshToken => ({
  id: r.id,
  sessionId: r.session_id,
  userId: r.user_id,
  secretHash: r.secret_hash,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  rotatedAt: r.rotated_at,
  successorId: r.successor_id,
  scope: r.scope,
});

const toRow = (t: RefreshToken): RefreshRow => ({
  id: t.id,
  session_id: t.sessionId,
  user_id: t.userId,
  secret_hash: t.secretHash,
  created_at: t.createdAt,
  expires_at: t.expiresAt,
  rotated_at: t.rotatedAt,
  successor_id: t.successorId,
  scope: t.scope,
});

/**
 * SQLite {@link RefreshStore}. `rotate` is one `BEGIN IMMEDIATE` transaction around a
 * compare-and-set (`… WHERE rotated_at IS NULL`): the write lock is taken up front, so
 * concurrent rotations from other processes on the same file queue behind it (busy_timeout)
 * instead of both reading "live" and both inserting a successor.
 */
export function createSqliteRefreshStore(db: Database): RefreshStore {
  const insert = db.prepare<[RefreshRow]>(
    `INSERT INTO refresh_tokens (id, session_id, user_id, secret_hash, created_at, expires_at, rotated_at, successor_id, scope)
     VALUES (@id, @session_id, @user_id, @secret_hash, @created_at, @expires_at, @rotated_at, @successor_id, @scope)`,
  );
  const byId = db.prepare<[string], RefreshRow>('SELECT * FROM refresh_tokens WHERE id = ?');
  const markRotated = db.prepare<[number, string, string]>(
    'UPDATE refresh_tokens SET rotated_at = ?, successor_id = ? WHERE id = ? AND rotated_at IS NULL',
  );
  const rotation = db.prepare<[string], { rotated_at: number; successor_id: string }>(
    'SELECT rotated_at, successor_id FROM refresh_tokens WHERE id = ?',
  );
  const deleteFamily = db.prepare<[string]>('DELETE FROM refresh_tokens WHERE session_id = ?');
  const deleteExpired = db.prepare<[number]>('DELETE FROM refresh_tokens WHERE expires_at < ?');

  const rotate = db.transaction((id: string, next: RefreshToken, now: number): RotateResult => {
    if (markRotated.run(now, next.id, id).changes === 1) {
      // If this throws (successor id taken), the transaction rolls back and `id` stays live.
      insert.run(toRow(next));
      return { status: 'rotated' };
    }
    const row = rotation.get(id);
    if (!row) return { status: 'not-found' };
    // The CHECK constraint guarantees successor_id is set whenever rotated_at is.
    return { status: 'already-rotated', rotatedAt: row.rotated_at, successorId: row.successor_id };
  });

  return {
    async create(token) {
      insert.run(toRow(token));
    },

    async get(id) {
      const row = byId.get(id);
      return row ? toToken(row) : null;
    },

    async rotate(id, next, now) {
      return rotate.immediate(id, next, now);
    },

    async deleteFamily(sessionId) {
      return deleteFamily.run(sessionId).changes;
    },

    async deleteExpired(before) {
      return deleteExpired.run(before).changes;
    },
  };
}
