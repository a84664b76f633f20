import { chmodSync, closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
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
  if ('path' in options && options.path !== ':memory:' && !options.path.startsWith('file:')) ownerOnly(options.path);
  const db = 'database' in options ? options.database : new (loadDriver())(options.path);
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

/**
 * better-sqlite3, loaded on first use rather than at import, so importing `@tessera/stores` (for
 * the PostgreSQL backend, say) loads no native driver. It is CommonJS, so `require` loads it
 * synchronously and `createSqliteStores` stays synchronous.
 */
function loadDriver(): typeof Database {
  return createRequire(import.meta.url)('better-sqlite3') as typeof Database;
}

/**
 * Creates the database file readable by its owner only (0600), and tightens an existing one with
 * its `-wal` and `-shm` files: they hold password hashes, emails, addresses and session data.
 * SQLite gives the files it creates later the database file's own mode.
 */
function ownerOnly(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      chmodSync(file, 0o600);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
    }
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
  const probe = db.prepare<[number]>(
    'INSERT INTO health_probe (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at',
  );
  return {
    users: createSqliteUserStore(db),
    sessions: createSqliteSessionStore(db),
    refreshTokens: createSqliteRefreshStore(db),
    keys: createSqliteKeyStore(db),
    revocations: createSqliteRevocationStore(db),
    rateLimits: createSqliteRateLimitStore(db),
    async ping() {
      // A write, not a read: a file that can be read but not written must fail readiness.
      probe.run(Date.now());
    },
    async close() {
      if (!db.open) return;
      // Lets SQLite refresh the planner statistics the queries above depend on, cheaply.
      db.pragma('optimize');
      db.close();
    },
  };
}
