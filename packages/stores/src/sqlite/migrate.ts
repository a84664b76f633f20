import type { Database } from 'better-sqlite3';
import { migrations as defaultMigrations, type Migration } from './migrations.js';

/**
 * Brings the schema up to the newest migration. All pending migrations and their
 * `schema_migrations` rows go in one `BEGIN IMMEDIATE` transaction: two processes starting
 * on a fresh file serialise, and the second finds nothing to do. Re-running is a no-op.
 *
 * Throws, changing nothing, when the database was migrated by a newer Tessera: an old binary
 * writing to a schema it does not know could corrupt data the new one relies on.
 *
 * @returns the versions this call applied (empty when already up to date).
 */
export function migrate(db: Database, migrations: readonly Migration[] = defaultMigrations): number[] {
  for (const [i, m] of migrations.entries()) {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  }
  const latest = migrations.length;

  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`);

  const run = db.transaction((): number[] => {
    const row = db.prepare<[], { version: number | null }>('SELECT max(version) AS version FROM schema_migrations').get();
    const current = row?.version ?? 0;
    if (current > latest) {
      throw new Error(
        `database schema version ${current} is newer than this version of Tessera supports (${latest}); ` +
          'upgrade Tessera, or point TESSERA_DATABASE_URL at another database',
      );
    }
    const record = db.prepare<[number, string, number]>('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    const applied: number[] = [];
    for (const m of migrations.slice(current)) {
      if (m.up !== '') db.exec(m.up);
      m.data?.(db);
      record.run(m.version, m.name, Date.now());
      applied.push(m.version);
    }
    return applied;
  });
  return run.immediate();
}
