import type { Stores } from '../types.js';
import { createPgPool, type PgPoolLike } from './driver.js';
import { createPostgresKeyStore } from './keys.js';
import { migrate, migratePostgres } from './migrate.js';
import { createPostgresRateLimitStore } from './rate-limits.js';
import { createPostgresRefreshStore } from './refresh-tokens.js';
import { createPostgresRevocationStore } from './revocations.js';
import { createPostgresSessionStore } from './sessions.js';
import { quoteSchema } from './sql.js';
import { trackPool } from './tracked-pool.js';
import { createPostgresUserStore } from './users.js';

export type { PgPoolClientLike, PgPoolLike, PgQueryable, PgResult } from './driver.js';
export { type MigratePostgresOptions, migratePostgres } from './migrate.js';
export { listenForRevocations, REVOCATION_CHANNEL, type RevocationListener, type RevocationListenerOptions } from './notify.js';

/** Options of {@link createPostgresStores}: a database URL, or a pool you created. */
export interface PostgresStoresOptions {
  /** `postgres://user:password@host:port/database?…` (any form `pg` accepts). Required unless `pool` is given. */
  connectionString?: string;
  /**
   * A `pg.Pool` (or anything shaped like one) to use instead of opening one. The stores take it
   * over: `close()` ends it.
   */
  pool?: PgPoolLike;
  /** Connections in the pool opened from `connectionString`. Default 10. */
  max?: number;
  /** Schema holding Tessera's tables, created if absent: a lower-case identifier. Default `public`. */
  schema?: string;
  /**
   * Called with the error of a connection that failed while idle in the pool (the server
   * restarted, a proxy dropped it). The pool has already discarded it, and the next query opens a
   * new one. Default: ignored; without any listener such an error would end the process.
   */
  onError?: (err: Error) => void;
  /**
   * Send the per-request reads (the session-and-user lookup, the user by id) as named prepared
   * statements, parsed and planned once per connection rather than on every query. Default true
   * when the stores open their pool from `connectionString`; false for a `pool` you pass, which
   * must then take pg's `query({ name, text, values })`, as `pg.Pool` does.
   *
   * Safe behind PgBouncer in transaction mode: where it does not track prepared statements
   * (before 1.21, or `max_prepared_statements = 0`) the first lookup that meets a statement
   * missing on its server connection is retried unnamed, and the stores send these reads unnamed
   * from then on. Turn it off for a pooler that would pin a client to its server connection for
   * using prepared statements, which would cost more than the parse it saves.
   */
  preparedStatements?: boolean;
}

/** Default of {@link PostgresStoresOptions.max}. */
export const DEFAULT_POOL_SIZE = 10;

/**
 * Every store over one PostgreSQL database (`pg`): the many-node deployment. Applies pending
 * migrations first (once, however many nodes start together; throwing if the database is from a
 * newer Tessera). Every atomic guarantee of the interfaces holds across nodes: each is one
 * conditional statement or one transaction, as each store's comment explains.
 *
 * `pg` is loaded only when no `pool` is given, so importing `@tessera/stores` loads no driver.
 *
 * @example
 * const stores = await createPostgresStores({ connectionString: 'postgres://tessera@db/tessera' });
 */
export async function createPostgresStores(options: PostgresStoresOptions): Promise<Stores> {
  const schema = options.schema ?? 'public';
  const s = quoteSchema(schema);
  const max = options.max ?? DEFAULT_POOL_SIZE;
  if (!Number.isSafeInteger(max) || max < 1) throw new TypeError('max must be a positive integer');
  if (!options.pool && !options.connectionString) throw new TypeError('createPostgresStores needs a connectionString or a pool');

  const raw = options.pool ?? (await createPgPool(options.connectionString!, max));
  raw.on('error', options.onError ?? (() => {}));
  const pool = trackPool(raw);
  try {
    // A pool we open has read timeouts for serving; a migration statement may rewrite a large
    // table, so it runs on a connection of its own without them.
    if (options.pool) await migrate(pool, schema);
    else await migratePostgres({ connectionString: options.connectionString!, schema });
  } catch (err) {
    // A half-opened store would keep its connections open with nobody to close them.
    await pool.close().catch(() => {});
    throw err;
  }

  // Options of the stores read on every request: batched per turn, and named if allowed.
  const hot = { hold: pool.hold, ...((options.preparedStatements ?? !options.pool) && { prepared: pool.prepared }) };
  const probe = `INSERT INTO ${s}.health_probe (id, checked_at) VALUES (1, $1)
    ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`;
  const sessions = createPostgresSessionStore(pool, s, hot);
  return {
    users: createPostgresUserStore(pool, s, hot),
    sessions,
    refreshTokens: createPostgresRefreshStore(pool, s, { ...hot, sessions }),
    keys: createPostgresKeyStore(pool, s),
    revocations: createPostgresRevocationStore(pool, s),
    rateLimits: createPostgresRateLimitStore(pool, s),
    async ping() {
      // A write, not a read: a read-only standby, or a primary that refuses writes, must fail readiness.
      await pool.query(probe, [Date.now()]);
    },
    close: () => pool.close(),
  };
}
