import type { Database } from 'better-sqlite3';
import { InvalidCursorError } from '../errors.js';
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
  // The highest seq ever assigned (AUTOINCREMENT keeps it even when those events are deleted).
  const head = db.prepare<[], number>("SELECT seq FROM sqlite_sequence WHERE name = 'revocation_events'").pluck();

  const add = (event: Omit<RevocationEvent, 'cursor'>): RevocationEvent => {
    const row = append.get({ sid: event.sid, sub: event.sub, not_before: event.notBefore, until: event.until, reason: event.reason });
    if (!row) throw new Error('INSERT … RETURNING returned no row');
    return toEvent(row);
  };
  // One transaction: a crash mid-way leaves none of the events, never some.
  const addAll = db.transaction((events: readonly Omit<RevocationEvent, 'cursor'>[]) => events.map(add));

  return {
    async append(event) {
      return add(event);
    },

    async appendAll(events) {
      return events.length === 0 ? [] : addAll.immediate(events);
    },

    async since(cursor, limit) {
      assertLimit(limit);
      const seq = parseSeqCursor(cursor);
      // A cursor this feed never handed out (another database's, or one made up) would skip every
      // event until the sequence caught up with it: refused, so the client starts over instead.
      if (seq > (head.get() ?? 0)) throw new InvalidCursorError();
      return since.all(seq, limit).map(toEvent);
    },

    async deleteExpired(nowSeconds) {
      return deleteExpired.run(nowSeconds).changes;
    },
  };
}
