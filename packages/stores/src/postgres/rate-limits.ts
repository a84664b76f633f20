import type { RateLimitStore } from '../types.js';
import type { PgQueryable } from './driver.js';
import { num } from './sql.js';

/** How many recordFailure calls (per node) between deletes of counters whose window has passed. */
const SWEEP_EVERY = 1024;

/**
 * PostgreSQL {@link RateLimitStore}, with the SQLite store's exact window rules. `recordFailure` is
 * one upsert: concurrent failures from any node each count exactly once (the conflicting insert
 * waits for the row and updates the committed count), and a window resets exactly once.
 */
export function createPostgresRateLimitStore(db: PgQueryable, s: string): RateLimitStore {
  // In DO UPDATE every right-hand side reads the existing row, so both CASEs see the same window.
  const record = `INSERT INTO ${s}.rate_limits AS r (key, count, last_at, window_ends_at) VALUES ($1, 1, $2, $3)
    ON CONFLICT (key) DO UPDATE SET
      count          = CASE WHEN r.window_ends_at <= $2 THEN 1 ELSE r.count + 1 END,
      window_ends_at = CASE WHEN r.window_ends_at <= $2 THEN $3 ELSE r.window_ends_at END,
      last_at        = $2
    RETURNING count, last_at`;
  const get = `SELECT count, last_at FROM ${s}.rate_limits WHERE key = $1 AND window_ends_at > $2`;
  const reset = `DELETE FROM ${s}.rate_limits WHERE key = $1`;
  const forgive = `UPDATE ${s}.rate_limits
    SET count = count - 1, last_at = CASE WHEN last_at = $3::bigint THEN $4::bigint ELSE last_at END
    WHERE key = $1 AND window_ends_at > $2 AND count > 0`;
  // The interface has no delete-expired method, yet failures sprayed over many identifiers would
  // grow the table forever; an amortised sweep bounds it by one window's identifiers.
  const sweep = `DELETE FROM ${s}.rate_limits WHERE window_ends_at <= $1`;
  let sinceSweep = 0;

  return {
    async recordFailure(key, now, windowMs) {
      if (++sinceSweep >= SWEEP_EVERY) {
        sinceSweep = 0;
        await db.query(sweep, [now]);
      }
      const { rows } = await db.query<{ count: number; last_at: string }>(record, [key, now, now + windowMs]);
      const row = rows[0];
      if (!row) throw new Error('INSERT … RETURNING returned no row');
      return { count: row.count, lastAt: num(row.last_at) };
    },

    async get(key, now) {
      const { rows } = await db.query<{ count: number; last_at: string }>(get, [key, now]);
      return rows[0] ? { count: rows[0].count, lastAt: num(rows[0].last_at) } : null;
    },

    async reset(key) {
      await db.query(reset, [key]);
    },

    async forgive(key, now, restore) {
      await db.query(forgive, [key, now, restore?.ifAt ?? null, restore?.to ?? null]);
    },
  };
}
