import Database from 'better-sqlite3';
import type { Stores } from '../types.js';
import { createSqliteKeyStore } from './keys.js';
import { migrate } from './migrate.js';
import { createSqliteRateLimitStore } from './rate-limits.js';
import { createSqliteRefreshStore } from './refresh-tokens.js';
import { createSqliteRevocationStore } from './revocations.js';
import { createSqliteSessionStore } from './sessions.js';
import { createSqliteUserStore } from './users.js';

/** Options of {@link createSqliteStores}: a file to open, or a database you opened. */
export type SqliteStoresOptions = (
  | {
      /** Database file (created if absent; its directory must exist), or `:memory:`. */
      path: string;
    }
  | {
      /** An open better-sqlite3 database. The stores take it over: `close()` closes it. */
      database: Database.Database;
    }
) & {
  /** How long a write waits for another process's lock before failing, in ms. Default 5000. */
  busyTimeoutMs?: number;
};

/**
 * Every store over one SQLite database (better-sqlite3): the single-node deployment. Sets the
 * pragmas, applies pending migrations (throwing if the file is from a newer Tessera) and
 * prepares every statement once. Several processes may share the file: every multi-step write
 * takes the write lock up front (`BEGIN IMMEDIATE`).
 *
 * @example
 * const stores = createSqliteStores({ path: './data/tessera.db' });
 */
export function createSqliteStores(options: SqliteStoresOptions): Stores {
  const db = 'database' in options ? options.database : new Database(options.path);
  try {
    configure(db, options.busyTimeoutMs ?? 5000);
    migrate(db);
    return assemble(db);
  } catch (err) {
    // A half-opened store would hold the file (and its lock) open with nobody to close it.
    db.close();
    throw err;
  }
}

function configure(db: Database.Database, busyTimeoutMs: number): void {
  // busy_timeout first, so that switching to WAL waits out another process opening the file.
  db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
  // Set outside any transaction: SQLite ignores journal_mode and foreign_keys inside one.
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  // In WAL mode NORMAL is durable across process crashes (a commit is in the WAL file before it
  // returns) and never corrupts; only an OS crash or power loss can lose the latest commits, as
  // the fsync waits for the checkpoint. That trade buys a much faster commit than FULL.
  db.pragma('synchronous = NORMAL');
  // Checkpoint every ~16 MiB of WAL rather than every 4 MiB: hot pages (indexes of sessions and
  // refresh tokens) are rewritten many times between checkpoints but copied back once, so the
  // stalls a checkpoint causes on the writing request come four times less often.
  db.pragma('wal_autocheckpoint = 4000');
}

function assemble(db: Database.Database): Stores {
  const select1 = db.prepare('SELECT 1');
  return {
    users: createSqliteUserStore(db),
    sessions: createSqliteSessionStore(db),
    refreshTokens: createSqliteRefreshStore(db),
    keys: createSqliteKeyStore(db),
    revocations: createSqliteRevocationStore(db),
    rateLimits: createSqliteRateLimitStore(db),
    async ping() {
      select1.get();
    },
    async close() {
      if (!db.open) return;
      // Lets SQLite refresh the planner statistics the queries above depend on, cheaply.
      db.pragma('optimize');
      db.close();
    },
  };
}
