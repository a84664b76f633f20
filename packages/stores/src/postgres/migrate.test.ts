import pg from 'pg';
import { expect, it } from 'vitest';
import { T0 } from '../contract/fixtures.js';
import { createPostgresStores, migratePostgres } from './index.js';
import { migrate } from './migrate.js';
import { migrations } from './migrations.js';
import { describePostgres } from './test-database.js';

describePostgres('postgres: migrations', (database) => {
  const versions = async (schema: string): Promise<{ version: number; name: string; applied_at: string }[]> => {
    const pool = new pg.Pool({ connectionString: database().url, max: 1 });
    try {
      return (await pool.query(`SELECT version, name, applied_at FROM ${schema}.schema_migrations ORDER BY version`)).rows;
    } finally {
      await pool.end();
    }
  };

  // Three auth nodes deployed together onto an empty database: one migrates, two wait and find nothing to do.
  it('three nodes starting at once on an empty database migrate it once', async () => {
    const opened = await Promise.all([0, 1, 2].map(() => createPostgresStores({ connectionString: database().url, max: 2 })));
    try {
      await Promise.all(opened.map((s) => s.ping()));
      expect((await versions('public')).map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    } finally {
      await Promise.all(opened.map((s) => s.close()));
    }
    const applied = await Promise.all([0, 1, 2].map(() => migratePostgres({ connectionString: database().url, schema: 'race' })));
    expect(applied.filter((a) => a.length > 0)).toEqual([migrations.map((m) => m.version)]);
  });

  it('migrating again is a no-op, through migratePostgres or at start', async () => {
    expect(await migratePostgres({ connectionString: database().url, schema: 'again' })).toEqual(migrations.map((m) => m.version));
    const before = await versions('again');
    expect(await migratePostgres({ connectionString: database().url, schema: 'again' })).toEqual([]);
    await (await createPostgresStores({ connectionString: database().url, schema: 'again' })).close();
    expect(await versions('again')).toEqual(before);
  });

  it('migratePostgres with a pool leaves the pool open', async () => {
    const pool = new pg.Pool({ connectionString: database().url, max: 1 });
    try {
      expect(await migratePostgres({ pool, schema: 'handed' })).toEqual(migrations.map((m) => m.version));
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('applies only the pending steps, and a step that fails changes nothing', async () => {
    const pool = new pg.Pool({ connectionString: database().url, max: 1 });
    try {
      const extra = { version: migrations.length + 1, name: 'extra table', up: 'CREATE TABLE extra (id INTEGER PRIMARY KEY)' };
      const broken = { version: migrations.length + 2, name: 'broken', up: 'CREATE TABLE broken (id INTEGER); SELECT 1 / 0' };
      expect(await migrate(pool, 'steps', migrations)).toEqual(migrations.map((m) => m.version));
      await expect(migrate(pool, 'steps', [...migrations, extra, broken])).rejects.toThrow('division by zero');
      // Both pending steps were one transaction: the good one is rolled back with the bad one.
      expect(await versions('steps')).toHaveLength(migrations.length);
      expect((await pool.query("SELECT to_regclass('steps.extra') AS t")).rows).toEqual([{ t: null }]);
      expect(await migrate(pool, 'steps', [...migrations, extra])).toEqual([extra.version]);
      await expect(migrate(pool, 'steps', [extra])).rejects.toThrow('expected 1');
    } finally {
      await pool.end();
    }
  });

  it('upgrades a version-2 schema in place: its users read back not disabled, and can be administered', async () => {
    const pool = new pg.Pool({ connectionString: database().url, max: 1 });
    try {
      expect(await migrate(pool, 'v2', migrations.slice(0, 2))).toEqual([1, 2]);
      await pool.query(`INSERT INTO v2.users (id, email, name, password_hash, roles, created_at, updated_at)
        VALUES ('u1', 'b@example.test', 'Ada', 'h1', '{admin}', ${T0}, ${T0 + 1}), ('u2', 'a@example.test', NULL, 'h2', '{}', ${T0}, ${T0})`);
      await pool.query(`INSERT INTO v2.sessions (id, user_id, kind, created_at, last_seen_at, idle_expires_at, absolute_expires_at)
        VALUES ('s1', 'u1', 'token', ${T0}, ${T0}, ${T0 + 1e6}, ${T0 + 1e6})`);
      await pool.query(`INSERT INTO v2.refresh_tokens (id, session_id, user_id, secret_hash, created_at, expires_at, scope)
        VALUES ('rt1', 's1', 'u1', '${'ab'.repeat(32)}', ${T0}, ${T0 + 1e6}, '')`);
    } finally {
      await pool.end();
    }
    const stores = await createPostgresStores({ connectionString: database().url, schema: 'v2' });
    try {
      const ada = {
        id: 'u1',
        email: 'b@example.test',
        name: 'Ada',
        passwordHash: 'h1',
        roles: ['admin'],
        disabledAt: null,
        createdAt: T0,
        updatedAt: T0 + 1,
      };
      const other = {
        id: 'u2',
        email: 'a@example.test',
        name: null,
        passwordHash: 'h2',
        roles: [],
        disabledAt: null,
        createdAt: T0,
        updatedAt: T0,
      };
      expect(await stores.users.findById('u1')).toEqual(ada);
      expect(await stores.users.list({ limit: 10 })).toEqual([other, ada]);
      expect(await stores.users.setDisabled('u1', T0 + 5, T0 + 5)).toBe(true);
      expect(await stores.users.findByEmail('b@example.test')).toEqual({ ...ada, disabledAt: T0 + 5, updatedAt: T0 + 5 });
      expect(await stores.users.changeRoles('u2', { grant: ['ops'] }, T0 + 6)).toEqual(['ops']);
      expect(await stores.users.delete('u1')).toBe(true);
      expect(await stores.sessions.get('s1')).toBeNull();
      expect(await stores.refreshTokens.get('rt1')).toBeNull();
    } finally {
      await stores.close();
    }
    expect((await versions('v2')).map((r) => r.version)).toEqual(migrations.map((m) => m.version));
  });

  it('refuses a database migrated by a newer version, naming both versions, and changes nothing', async () => {
    await migratePostgres({ connectionString: database().url, schema: 'future' });
    const pool = new pg.Pool({ connectionString: database().url, max: 1 });
    try {
      await pool.query("INSERT INTO future.schema_migrations (version, name, applied_at) VALUES (999, 'from the future', 0)");
      const message = `database schema version 999 is newer than this version of Tessera supports (${migrations.length})`;
      await expect(createPostgresStores({ connectionString: database().url, schema: 'future' })).rejects.toThrow(message);
      await expect(migratePostgres({ pool, schema: 'future' })).rejects.toThrow(message);
      expect((await versions('future')).map((r) => r.version)).toEqual([...migrations.map((m) => m.version), 999]);
    } finally {
      await pool.end();
    }
  });
});
