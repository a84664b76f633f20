import pg from 'pg';
import { expect, it } from 'vitest';
import type { RevocationEvent } from '../types.js';
import { createPostgresStores, type PgPoolLike } from './index.js';
import { describePostgres } from './test-database.js';

const S0 = 1_700_000_000;
const APPENDERS = 2;
const ROUNDS = 12;
const PER_ROUND = 8;

/**
 * A pool whose every statement commits slowly, as under synchronous replication or a slow disk:
 * each runs in a transaction held open 0–4 ms after it. The wider the gap between a cursor being
 * assigned and its commit, the likelier a cursor scheme that does not follow commit order
 * (a plain sequence) lets a reader pass a cursor whose event is not visible yet.
 */
function slowCommits(url: string): PgPoolLike {
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  return {
    async query(text, values) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await client.query(text, values);
        await client.query('SELECT pg_sleep($1)', [Math.random() * 0.004]);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    connect: () => pool.connect(),
    end: () => pool.end(),
    on: (event, listener) => pool.on(event, listener),
  };
}

describePostgres('postgres: revocation cursors under concurrent appends', (database) => {
  // A verifier resuming from a cursor must never skip an event: if cursor 11 became visible
  // before cursor 10, a reader holding 11 would never be shown 10, and that session would stay
  // valid on every verifier until its tokens expired.
  it('a reader polling since() sees every event exactly once, in cursor order, while other nodes append', async () => {
    const schema = 'feed';
    const reader = await createPostgresStores({ connectionString: database().url, schema, max: 2 });
    const writers = await Promise.all(
      Array.from({ length: APPENDERS }, () => createPostgresStores({ pool: slowCommits(database().url), schema })),
    );
    try {
      let writing = true;
      const appended: RevocationEvent[] = [];
      const write = (async () => {
        for (let round = 0; round < ROUNDS; round++) {
          const batch = writers.flatMap((w, n) =>
            Array.from({ length: PER_ROUND }, (_, i) => {
              const id = `${round}_${n}_${i}`;
              const event = { sid: `sid_${id}`, sub: null, notBefore: S0, until: S0 + 600, reason: 'logout' };
              // Some single appends, some batches, as logout and "log out everywhere" make them.
              return i % 4 === 0
                ? w.revocations.appendAll([event, { ...event, sid: `${event.sid}_b` }])
                : w.revocations.append(event).then((e) => [e]);
            }),
          );
          for (const events of await Promise.all(batch)) appended.push(...events);
        }
        writing = false;
      })();

      const seen: RevocationEvent[] = [];
      let cursor: string | null = null;
      while (writing || seen.length < appended.length) {
        // Read before the query: an empty page ends the loop only if every append had committed
        // before it began (one that ended while it ran may be missing from its snapshot).
        const allCommitted = !writing;
        const page: RevocationEvent[] = await reader.revocations.since(cursor, 25);
        seen.push(...page);
        if (page.length > 0) cursor = page.at(-1)!.cursor;
        else if (allCommitted) break;
      }
      await write;

      const cursors = seen.map((e) => BigInt(e.cursor));
      for (let i = 1; i < cursors.length; i++) expect(cursors[i]! > cursors[i - 1]!, `cursor ${i}`).toBe(true);
      const bySid = (a: RevocationEvent, b: RevocationEvent) => (a.sid! < b.sid! ? -1 : 1);
      expect([...seen].sort(bySid)).toEqual([...appended].sort(bySid));
      expect(seen).toEqual(await reader.revocations.since(null, 10_000));
    } finally {
      await Promise.all([reader, ...writers].map((s) => s.close()));
    }
  });
});
