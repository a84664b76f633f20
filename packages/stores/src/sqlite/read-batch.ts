import { setImmediate } from 'node:timers';
import type { Database } from 'better-sqlite3';

// Bound once at load: a test suite that fakes the global timers later must not be able to park
// every session lookup behind a fake clock.
const checkPhase = setImmediate;

/** Schedules a batch for the loop's check phase: after the poll phase has read every ready socket. */
type Schedule = (run: () => void) => void;

/**
 * Coalesces the reads that arrive within one turn of the event loop into one SQLite read
 * transaction. Each call is queued; the first one of a turn schedules the batch with
 * `setImmediate`, which runs once the poll phase has taken in every request that was ready, so
 * under concurrent load several lookups share one transaction. Each read still runs against the
 * database, after the call was made: nothing is cached between batches.
 *
 * Why: a WAL read transaction costs two `fcntl` system calls (the read-mark lock and its release)
 * and a walk through SQLite's locking code, which on a busy server also evicts the HTTP stack
 * from the CPU caches. Done once per batch rather than once per request, the per-request read
 * (the session lookup of every cookie-authenticated request) gets markedly cheaper.
 *
 * Guarantees: every read of a batch sees the same committed snapshot, taken when the batch
 * starts; a read that throws rejects only its own caller; the transaction is always ended before
 * any caller's continuation runs (promise reactions run after the batch returns), so a caller
 * that goes on to write does so outside it. A batch of one runs as a plain autocommit read.
 */
export function createReadBatcher(db: Database, schedule: Schedule = checkPhase): <T>(read: () => T) => Promise<T> {
  const begin = db.prepare('BEGIN');
  const commit = db.prepare('COMMIT');
  let queue: { read: () => unknown; resolve: (value: never) => void; reject: (err: unknown) => void }[] = [];

  const flush = () => {
    const batch = queue;
    queue = [];
    // Never nest: a read issued from inside someone's synchronous transaction (there are none on
    // the paths that use this, but the guard is cheap) runs in that transaction as it would unbatched.
    let open = false;
    if (batch.length > 1 && db.open && !db.inTransaction) {
      try {
        begin.run();
        open = true;
      } catch {
        // Without the shared transaction each read is simply its own, as it would be unbatched.
      }
    }
    try {
      for (const entry of batch) {
        try {
          entry.resolve(entry.read() as never);
        } catch (err) {
          entry.reject(err);
        }
      }
    } finally {
      if (open && db.inTransaction) {
        try {
          commit.run();
        } catch {
          // A read-only transaction has nothing to commit; if ending it fails, roll it back so
          // the connection is never left holding a read lock (which would stall checkpoints).
          try {
            if (db.inTransaction) db.exec('ROLLBACK');
          } catch {
            // Nothing left to try; the next statement on this connection reports the state.
          }
        }
      }
    }
  };

  return <T>(read: () => T) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ read, resolve: resolve as (value: never) => void, reject });
      if (queue.length === 1) schedule(flush);
    });
}
