import type { Database } from 'better-sqlite3';
import { assertLimit, parseSeqCursor } from '../lib/cursor.js';
import type { RevocationEvent, RevocationStore } from '../types.js';

interface EventRow {
  seq: number;
  sid: string | null;
  sub: string | null;
  not_before: number;
  until: number;
  reason: string;
}

const toEvent = (r: EventRow): RevocationEvent => ({
  cursor: String(r.seq),
  sid: r.sid,
  sub: r.sub,
  notBefore: r.not_before,
  until: r.until,
  reason: r.reason,
});

/**
 * SQLite {@link RevocationStore}. The cursor is the AUTOINCREMENT `seq` in decimal: assigned
 * under the write lock, so it increases in commit order even across processes.
 */
export function createSqliteRevocationStore(db: Database): RevocationStore {
  const append = db.prepare<[Omit<EventRow, 'seq'>], EventRow>(
    `INSERT INTO revocation_events (sid, sub, not_before, until, reason)
     VALUES (@sid, @sub, @not_before, @until, @reason) RETURNING *`,
  );
  const since = db.prepare<[number, number], EventRow>('SELECT * FROM revocation_events WHERE seq > ? ORDER BY seq LIMIT ?');
  const deleteExpired = db.prepare<[number]>('DELETE FROM revocation_events WHERE until < ?');

  return {
    async append(event) {
      const row = append.get({ sid: event.sid, sub: event.sub, not_before: event.notBefore, until: event.until, reason: event.reason });
      if (!row) throw new Error('INSERT … RETURNING returned no row');
      return toEvent(row);
    },

    async since(cursor, limit) {
      assertLimit(limit);
      return since.all(parseSeqCursor(cursor), limit).map(toEvent);
    },

    async deleteExpired(nowSeconds) {
      return deleteExpired.run(nowSeconds).changes;
    },
  };
}
