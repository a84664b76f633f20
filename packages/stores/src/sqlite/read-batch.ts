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
 * Each read must run one statement to completion (`get`, `all`, `run`): never leave an `iterate()`
 * open, which would keep the connection busy and the transaction unable to end.
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
    // Never nest: inside a transaction already open on this connection (there is none on the paths
    // that use this, as every transaction here is synchronous) the reads simply join it.
    let open = false;
    if (batch.length > 1 && !db.inTransaction) {
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
      if (open) end();
    }
  };

  /** Ends the batch's transaction, or stops the process: a connection stuck in it would never commit again. */
  const end = () => {
    try {
      commit.run();
      return;
    } catch {
      // A read-only transaction has nothing to commit; if ending it fails, roll it back.
    }
    try {
      if (db.inTransaction) db.exec('ROLLBACK');
    } catch {
      // Checked below.
    }
    if (db.inTransaction) {
      // Only a read that left a statement running (an unfinished iterate()) can get here, and the
      // reads given to a batcher must each run to completion. Carrying on would keep every later
      // write of this connection uncommitted and stall WAL checkpoints: fail loudly instead.
      process.nextTick(() => {
        throw new Error('a batched SQLite read left its connection inside a transaction that cannot be ended');
      });
    }
  };

  return <T>(read: () => T) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ read, resolve: resolve as (value: never) => void, reject });
      if (queue.length === 1) schedule(flush);
    });
}
