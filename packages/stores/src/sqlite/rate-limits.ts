import type { Database } from 'better-sqlite3';
import type { RateLimitStore } from '../types.js';

/** How many recordFailure calls between deletes of counters whose window has passed. */
const SWEEP_EVERY = 1024;

/**
 * SQLite {@link RateLimitStore}. `recordFailure` is one upsert, so concurrent failures (from any
 * process) each count exactly once and a window resets exactly once.
 */
export function createSqliteRateLimitStore(db: Database): RateLimitStore {
  // In an UPDATE every right-hand side reads the old row, so both CASEs see the same window.
  const record = db.prepare<[{ key: string; now: number; ends: number }], { count: number; last_at: number }>(
    `INSERT INTO rate_limits (key, count, last_at, window_ends_at) VALUES (@key, 1, @now, @ends)
     ON CONFLICT (key) DO UPDATE SET
       count          = CASE WHEN rate_limits.window_ends_at <= @now THEN 1 ELSE rate_limits.count + 1 END,
       window_ends_at = CASE WHEN rate_limits.window_ends_at <= @now THEN @ends ELSE rate_limits.window_ends_at END,
       last_at        = @now
     RETURNING count, last_at`,
  );
  const get = db.prepare<[string, number], { count: number; last_at: number }>(
    'SELECT count, last_at FROM rate_limits WHERE key = ? AND window_ends_at > ?',
  );
  const reset = db.prepare<[string]>('DELETE FROM rate_limits WHERE key = ?');
  const forgive = db.prepare<[{ key: string; now: number; ifAt: number | null; to: number | null }]>(
    `UPDATE rate_limits SET count = count - 1, last_at = CASE WHEN last_at = @ifAt THEN @to ELSE last_at END
     WHERE key = @key AND window_ends_at > @now AND count > 0`,
  );
  // The interface has no delete-expired method, yet failures sprayed over many identifiers
  // would grow the table forever; an amortised sweep bounds it by one window's identifiers.
  const sweep = db.prepare<[number]>('DELETE FROM rate_limits WHERE window_ends_at <= ?');
  let sinceSweep = 0;

  return {
    async recordFailure(key, now, windowMs) {
      if (++sinceSweep >= SWEEP_EVERY) {
        sinceSweep = 0;
        sweep.run(now);
      }
      const row = record.get({ key, now, ends: now + windowMs });
      if (!row) throw new Error('INSERT … RETURNING returned no row');
      return { count: row.count, lastAt: row.last_at };
    },

    async get(key, now) {
      const row = get.get(key, now);
      return row ? { count: row.count, lastAt: row.last_at } : null;
    },

    async reset(key) {
      reset.run(key);
    },

    async forgive(key, now, restore) {
      forgive.run({ key, now, ifAt: restore?.ifAt ?? null, to: restore?.to ?? null });
    },
  };
}
