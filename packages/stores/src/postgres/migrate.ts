import { createPgPool, type PgPoolLike, type PgQueryable } from './driver.js';
import { migrations as defaultMigrations, type PostgresMigration } from './migrations.js';
import { quoteSchema, transaction } from './sql.js';

/** First key of the migration advisory lock (the second is the schema name's hash): "tessera" squeezed into an int4. */
const MIGRATION_LOCK = 0x7e55e7a;

/** Options of {@link migratePostgres}: a database URL, or a pool you manage. */
export interface MigratePostgresOptions {
  /** `postgres://…` URL; a one-connection pool is opened for the migration and closed after it. */
  connectionString?: string;
  /** A pool to migrate through instead; it is left open. */
  pool?: PgPoolLike;
  /** Schema holding Tessera's tables, created if absent. Default `public`. */
  schema?: string;
}

/**
 * Brings a PostgreSQL database up to the newest Tessera schema, for operators who migrate before
 * deploying (`createPostgresStores` does the same at start). Safe to run from several nodes at
 * once and to re-run; throws, changing nothing, on a database migrated by a newer Tessera.
 *
 * @returns the versions this call applied (empty when already up to date).
 * @example
 * await migratePostgres({ connectionString: process.env.TESSERA_DATABASE_URL });
 */
export async function migratePostgres(options: MigratePostgresOptions): Promise<number[]> {
  const schema = options.schema ?? 'public';
  quoteSchema(schema);
  if (options.pool) return migrate(options.pool, schema);
  if (!options.connectionString) throw new TypeError('migratePostgres needs a connectionString or a pool');
  // No read timeout: a migration statement may take as long as the table it rewrites.
  const pool = await createPgPool(options.connectionString, 1, null);
  pool.on('error', () => {});
  try {
    return await migrate(pool, schema);
  } finally {
    await pool.end();
  }
}

/**
 * Applies the pending migrations of `schema`, all in one transaction with their
 * `schema_migrations` rows, under a transaction-scoped advisory lock: nodes starting together on
 * an empty database queue on the lock, and each one after the first finds nothing to do. The
 * lock goes with the transaction, so a node that dies mid-migration cannot leave it held.
 *
 * An up-to-date database needs no privilege beyond reading `schema_migrations`: nothing is
 * created unless missing, so nodes can run as a role that cannot change the schema.
 */
export async function migrate(
  pool: PgPoolLike,
  schema: string,
  migrations: readonly PostgresMigration[] = defaultMigrations,
): Promise<number[]> {
  for (const [i, m] of migrations.entries()) {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  }
  const latest = migrations.length;
  const quoted = quoteSchema(schema);

  return transaction(pool, async (db) => {
    await db.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [MIGRATION_LOCK, schema]);
    // READ COMMITTED: each statement from here on sees whatever the lock's previous holder committed.
    const { rows } = await db.query<{ has_schema: boolean; has_table: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS has_schema,
              to_regclass($2) IS NOT NULL AS has_table`,
      [schema, `${quoted}.schema_migrations`],
    );
    if (!rows[0]?.has_schema) await db.query(`CREATE SCHEMA ${quoted}`);
    await db.query(`SET LOCAL search_path TO ${quoted}`);
    if (!rows[0]?.has_table) {
      await db.query(`CREATE TABLE schema_migrations (
        version    INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        applied_at BIGINT NOT NULL
      )`);
    }
    const current = await currentVersion(db);
    if (current > latest) {
      throw new Error(
        `database schema version ${current} is newer than this version of Tessera supports (${latest}); ` +
          'upgrade Tessera, or point TESSERA_DATABASE_URL at another database',
      );
    }
    const applied: number[] = [];
    for (const m of migrations.slice(current)) {
      await db.query(m.up);
      await db.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
      applied.push(m.version);
    }
    return applied;
  });
}

async function currentVersion(db: PgQueryable): Promise<number> {
  const { rows } = await db.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
  return rows[0]?.version ?? 0;
}
