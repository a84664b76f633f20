import { InvalidCursorError } from '../errors.js';
import { assertLimit, parseSeqCursor } from '../lib/cursor.js';
import type { RevocationEvent, RevocationStore } from '../types.js';
import type { PgQueryable } from './driver.js';
import { REVOCATION_CHANNEL } from './notify.js';
import { changed, num } from './sql.js';

interface EventRow {
  seq: string;
  sid: string | null;
  sub: string | null;
  not_before: string;
  until: string;
  reason: string;
}

const toEvent = (r: EventRow): RevocationEvent => ({
  cursor: r.seq,
  sid: r.sid,
  sub: r.sub,
  notBefore: num(r.not_before),
  until: num(r.until),
  reason: r.reason,
});

/**
 * PostgreSQL {@link RevocationStore}. The cursor is `seq` in decimal, taken from the single
 * `revocation_head` row, which each append increments in the same statement that inserts its
 * events. That row's lock is held until the append commits, so appends from every node run one
 * after another and cursors increase in commit order: a reader that has seen cursor n has seen
 * every event below n, and a verifier resuming from n skips nothing. (A bigserial would not do:
 * with cursors 10 and 11 handed out to two open transactions, 11 may commit first, a reader
 * move past it, and 10 appear behind its cursor.) The price, one append at a time, is small:
 * each holds the lock for one insert, and revocations are rare next to reads.
 */
export function createPostgresRevocationStore(db: PgQueryable, s: string): RevocationStore {
  // One statement: the batch and the head move together or not at all. Ordinality keeps the
  // events' order in their cursors.
  // The same statement notifies listening nodes (notify.ts); PostgreSQL delivers it at commit,
  // in commit order, and never for an append that rolled back.
  const append = `WITH head AS (UPDATE ${s}.revocation_head SET seq = seq + $1 WHERE id = 1 RETURNING seq),
    notified AS (SELECT pg_notify('${REVOCATION_CHANNEL}', $7::text || ':' || head.seq::text) FROM head)
    INSERT INTO ${s}.revocation_events (seq, sid, sub, not_before, until, reason)
    SELECT head.seq - $1 + e.n, e.sid, e.sub, e.not_before, e.until, e.reason
    FROM head, notified, unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[]) WITH ORDINALITY
      AS e (sid, sub, not_before, until, reason, n)
    RETURNING seq, sid, sub, not_before, until, reason`;
  // The head and the page in one round trip: the head bounds the cursors a caller may hold.
  const since = `SELECT h.seq AS head, e.seq, e.sid, e.sub, e.not_before, e.until, e.reason
    FROM ${s}.revocation_head h
    LEFT JOIN LATERAL (
      SELECT * FROM ${s}.revocation_events WHERE seq > $1 ORDER BY seq LIMIT $2
    ) e ON true
    WHERE h.id = 1
    ORDER BY e.seq`;
  const deleteExpired = `DELETE FROM ${s}.revocation_events WHERE until < $1`;
  // quoteSchema's output: the name between the double quotes.
  const schema = s.slice(1, -1);

  const appendAll = async (events: readonly Omit<RevocationEvent, 'cursor'>[]): Promise<RevocationEvent[]> => {
    const { rows } = await db.query<EventRow>(append, [
      events.length,
      events.map((e) => e.sid),
      events.map((e) => e.sub),
      events.map((e) => e.notBefore),
      events.map((e) => e.until),
      events.map((e) => e.reason),
      schema,
    ]);
    // RETURNING promises no order; the cursors do.
    return rows.map(toEvent).sort((a, b) => num(a.cursor) - num(b.cursor));
  };

  return {
    async append(event) {
      const [stored] = await appendAll([event]);
      if (!stored) throw new Error('INSERT … RETURNING returned no row');
      return stored;
    },

    async appendAll(events) {
      return events.length === 0 ? [] : appendAll(events);
    },

    async since(cursor, limit) {
      assertLimit(limit);
      const after = parseSeqCursor(cursor);
      const { rows } = await db.query<{ head: string } & { [K in keyof EventRow]: EventRow[K] | null }>(since, [after, limit]);
      // A cursor this feed never handed out (another database's, or one made up) would skip every
      // event until the sequence caught up with it: refused, so the client starts over instead.
      if (after > num(rows[0]?.head ?? '0')) throw new InvalidCursorError();
      return rows.flatMap((r) => (r.seq === null ? [] : [toEvent(r as EventRow)]));
    },

    async deleteExpired(nowSeconds) {
      return changed(await db.query(deleteExpired, [nowSeconds]));
    },
  };
}
