import type { Database } from 'better-sqlite3';
import { foldEmail } from '../lib/email.js';

/**
 * One schema step. `up` is plain SQL, and `data` an optional step over the rows (after `up`),
 * both run in the same transaction as the step's bookkeeping row.
 */
export interface Migration {
  /** Strictly increasing from 1; never renumber or edit a released migration, add a new one. */
  version: number;
  name: string;
  up: string;
  data?: (db: Database) => void;
}

/**
 * The SQLite schema, oldest first. Times are integer milliseconds since the epoch except the
 * revocation `not_before`/`until`, which are seconds like the JWT claims they are compared with.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    up: `
      CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        -- Normalised by the caller (trim, NFKC, case fold), so a plain UNIQUE is exact.
        email         TEXT NOT NULL UNIQUE,
        name          TEXT,
        password_hash TEXT NOT NULL,
        roles         TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE sessions (
        id                  TEXT PRIMARY KEY,
        user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind                TEXT NOT NULL CHECK (kind IN ('cookie', 'token')),
        secret_hash         TEXT,
        csrf_token          TEXT,
        created_at          INTEGER NOT NULL,
        last_seen_at        INTEGER NOT NULL,
        idle_expires_at     INTEGER NOT NULL,
        absolute_expires_at INTEGER NOT NULL,
        user_agent          TEXT,
        ip                  TEXT,
        revoked_at          INTEGER
      ) STRICT;
      -- (created_at, id) too, so listActive reads newest first straight from the index.
      CREATE INDEX sessions_user_id ON sessions (user_id, created_at, id);
      -- One index serves both expiries: deleteExpired queries this exact expression.
      CREATE INDEX sessions_expires_at ON sessions (min(idle_expires_at, absolute_expires_at));
      CREATE INDEX sessions_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

      CREATE TABLE refresh_tokens (
        id           TEXT PRIMARY KEY,
        -- A family dies with its session (purged sessions take their tokens along).
        session_id   TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        user_id      TEXT NOT NULL,
        secret_hash  TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        rotated_at   INTEGER,
        successor_id TEXT,
        -- rotate() reports successor_id whenever rotated_at is set; this keeps that sound.
        CHECK ((rotated_at IS NULL) = (successor_id IS NULL))
      ) STRICT;
      CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);
      CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

      CREATE TABLE signing_keys (
        kid          TEXT PRIMARY KEY,
        alg          TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('next', 'current', 'retired')),
        private_jwk  TEXT NOT NULL, -- encrypted by the caller with the KEK
        created_at   INTEGER NOT NULL,
        activated_at INTEGER,
        retired_at   INTEGER
      ) STRICT;
      -- At most one 'next' and one 'current' key, enforced by the database itself so that
      -- auth nodes racing to rotate cannot both win.
      CREATE UNIQUE INDEX signing_keys_one_per_live_state ON signing_keys (state) WHERE state IN ('next', 'current');

      CREATE TABLE revocation_events (
        -- AUTOINCREMENT (not plain rowid) so a cursor is never reused, even after the newest
        -- events were deleted: a reused cursor would make verifiers skip events.
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        sid        TEXT,
        sub        TEXT,
        not_before INTEGER NOT NULL, -- seconds
        until      INTEGER NOT NULL, -- seconds
        reason     TEXT NOT NULL
      ) STRICT;
      CREATE INDEX revocation_events_until ON revocation_events (until);

      CREATE TABLE rate_limits (
        key            TEXT PRIMARY KEY,
        count          INTEGER NOT NULL,
        last_at        INTEGER NOT NULL,
        window_ends_at INTEGER NOT NULL -- first instant after the window
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX rate_limits_window_ends_at ON rate_limits (window_ends_at);
    `,
  },
  {
    version: 2,
    name: 'refresh token families remember their granted scope',
    // Families from before this step have NULL ("not recorded"): the server then bounds their
    // refreshes by TESSERA_SCOPES, as it did when they were issued. New families store '' for none.
    up: `ALTER TABLE refresh_tokens ADD COLUMN scope TEXT;`,
  },
  {
    version: 3,
    name: 'emails stored fully case-folded',
    // Addresses were lower-cased; they are now case-folded (foldEmail), which differs only for a
    // few letters (ß, ς, ı …). An address whose folded form another account already holds keeps
    // its old form: merging two accounts is not a migration's call.
    up: '',
    data(db) {
      const rows = db.prepare<[], { id: string; email: string }>('SELECT id, email FROM users').all();
      const taken = db.prepare<[string], 1>('SELECT 1 FROM users WHERE email = ?').pluck();
      const update = db.prepare<[string, string]>('UPDATE users SET email = ? WHERE id = ?');
      for (const { id, email } of rows) {
        const folded = foldEmail(email);
        if (folded !== email && taken.get(folded) === undefined) update.run(folded, id);
      }
    },
  },
  {
    version: 4,
    name: 'a row for readiness probes to write',
    // ping() writes here, so a database that can be read but not written to (a full disk, a
    // read-only file system) reports itself not ready instead of failing every login.
    up: `CREATE TABLE health_probe (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at INTEGER NOT NULL) STRICT;`,
  },
  {
    version: 5,
    name: 'no plain CSRF tokens at rest',
    // The server now derives a cookie session's CSRF token from its id and a server key, and
    // accepts only that; the tokens stored before are dead values, and a copy of the database
    // should not carry them. The column stays (the store interface still has the field, null).
    up: `UPDATE sessions SET csrf_token = NULL WHERE csrf_token IS NOT NULL;`,
  },
  {
    version: 6,
    name: 'users can be disabled',
    // NULL for every existing user: none was disabled before the mark existed.
    up: `ALTER TABLE users ADD COLUMN disabled_at INTEGER;`,
  },
];
