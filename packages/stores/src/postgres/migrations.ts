/** One schema step: plain SQL, run in the migration transaction with `search_path` set to the store's schema. */
export interface PostgresMigration {
  /** Strictly increasing from 1; never renumber or edit a released migration, add a new one. */
  version: number;
  name: string;
  up: string;
}

/**
 * The PostgreSQL schema, oldest first. Times are integer milliseconds since the epoch in BIGINT
 * columns, except the revocation `not_before`/`until`, which are seconds like the JWT claims they
 * are compared with. Identifiers use the "C" collation: they are compared byte for byte, so
 * `listActive`'s tie-break on id orders alike on every backend, whatever the database's locale.
 */
export const migrations: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'initial schema',
    up: `
      CREATE TABLE users (
        id            TEXT COLLATE "C" PRIMARY KEY,
        -- Normalised by the caller (trim, NFKC, case fold), so a byte-wise UNIQUE is exact.
        email         TEXT COLLATE "C" NOT NULL CONSTRAINT users_email_unique UNIQUE,
        name          TEXT,
        password_hash TEXT NOT NULL,
        roles         TEXT[] NOT NULL DEFAULT '{}',
        created_at    BIGINT NOT NULL,
        updated_at    BIGINT NOT NULL
      );

      CREATE TABLE sessions (
        id                  TEXT COLLATE "C" PRIMARY KEY,
        user_id             TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        kind                TEXT NOT NULL CHECK (kind IN ('cookie', 'token')),
        secret_hash         TEXT,
        csrf_token          TEXT,
        created_at          BIGINT NOT NULL,
        last_seen_at        BIGINT NOT NULL,
        idle_expires_at     BIGINT NOT NULL,
        absolute_expires_at BIGINT NOT NULL,
        user_agent          TEXT,
        ip                  TEXT,
        revoked_at          BIGINT
      );
      -- (created_at, id) too, so listActive reads newest first straight from the index (backwards).
      CREATE INDEX sessions_user_id ON sessions (user_id, created_at, id);
      -- One index serves both expiries: deleteExpired queries this exact expression.
      CREATE INDEX sessions_expires_at ON sessions ((least(idle_expires_at, absolute_expires_at)));
      CREATE INDEX sessions_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

      CREATE TABLE refresh_tokens (
        id           TEXT COLLATE "C" PRIMARY KEY,
        -- A family dies with its session (purged sessions take their tokens along).
        session_id   TEXT COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        user_id      TEXT COLLATE "C" NOT NULL,
        secret_hash  TEXT NOT NULL,
        created_at   BIGINT NOT NULL,
        expires_at   BIGINT NOT NULL,
        rotated_at   BIGINT,
        successor_id TEXT COLLATE "C",
        -- '' when none was asked for; NULL only for families stored before scopes were recorded.
        scope        TEXT,
        -- rotate() reports successor_id whenever rotated_at is set; this keeps that sound.
        CHECK ((rotated_at IS NULL) = (successor_id IS NULL))
      );
      CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);
      CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

      CREATE TABLE signing_keys (
        kid          TEXT COLLATE "C" PRIMARY KEY,
        alg          TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('next', 'current', 'retired')),
        private_jwk  TEXT NOT NULL, -- encrypted by the caller with the KEK
        created_at   BIGINT NOT NULL,
        activated_at BIGINT,
        retired_at   BIGINT
      );
      -- At most one 'next' and one 'current' key, enforced by the database itself so that auth
      -- nodes racing to rotate cannot both win.
      CREATE UNIQUE INDEX signing_keys_one_per_live_state ON signing_keys (state) WHERE state IN ('next', 'current');

      CREATE TABLE revocation_events (
        -- Assigned from revocation_head, never from a sequence: see that table.
        seq        BIGINT PRIMARY KEY,
        sid        TEXT,
        sub        TEXT,
        not_before BIGINT NOT NULL, -- seconds
        until      BIGINT NOT NULL, -- seconds
        reason     TEXT NOT NULL
      );
      CREATE INDEX revocation_events_until ON revocation_events (until);

      -- The newest cursor ever assigned, in one row. Every append increments it in its own
      -- transaction, so the row lock serialises appends: cursors increase in commit order, and a
      -- reader never sees cursor n+1 before n. (A sequence hands out numbers in call order, and
      -- its transactions may commit in any order.) It also survives the deletion of the newest
      -- events, so a cursor is never reused, and bounds the cursors since() accepts.
      CREATE TABLE revocation_head (
        id  INTEGER PRIMARY KEY CHECK (id = 1),
        seq BIGINT NOT NULL
      );
      INSERT INTO revocation_head (id, seq) VALUES (1, 0);

      CREATE TABLE rate_limits (
        key            TEXT COLLATE "C" PRIMARY KEY,
        count          INTEGER NOT NULL,
        last_at        BIGINT NOT NULL,
        window_ends_at BIGINT NOT NULL -- first instant after the window
      );
      CREATE INDEX rate_limits_window_ends_at ON rate_limits (window_ends_at);

      -- ping() writes here, so a database that can be read but not written to (a read-only
      -- standby, a full disk) reports itself not ready instead of failing every login.
      CREATE TABLE health_probe (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        checked_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'refresh families without a sessions foreign key',
    // With TESSERA_SESSION_STORE=redis the sessions live in Redis and this table's sessions stay
    // empty, so the key refused every token login (a 500). Nothing relied on the cascade: a
    // rotation reads the session first and refuses a family whose session is gone, and
    // deleteExpired purges its tokens when they expire.
    up: 'ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_session_id_fkey',
  },
  {
    version: 3,
    name: 'users can be disabled',
    // NULL for every existing user: none was disabled before the mark existed. Adding a nullable
    // column with no default only changes the catalogue: no table rewrite, however many users.
    up: 'ALTER TABLE users ADD COLUMN disabled_at BIGINT',
  },
];
