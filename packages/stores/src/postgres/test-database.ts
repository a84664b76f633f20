/**
 * Test-only: a throw-away PostgreSQL database per test file. The server is the one at
 * `TESSERA_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`, a role that
 * may create databases). When it cannot be reached the suite is skipped with a warning, except
 * under `CI=true`, where it fails: a CI run that silently skipped PostgreSQL would pass untested.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';

/** The server the tests use, as an administrative URL (any database of it). */
export const ADMIN_URL = process.env.TESSERA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database created for one test file. */
export interface TestDatabase {
  name: string;
  /** Connection string to it. */
  url: string;
}

/** Connects once with a short timeout: null when the server answers, else why not. */
async function unreachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    // An AggregateError (every address refused) has an empty message, but a code.
    return err instanceof Error ? err.message || String((err as { code?: unknown }).code) : String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database named `tessera_test_<random>`. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `tessera_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** Drops a test database; FORCE ends any connection a failed test left open (the tests end theirs first). */
export async function dropTestDatabase(db: TestDatabase): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`));
}

const reason = await unreachable();

/**
 * A `describe` block with a fresh database for its tests (created before them, dropped after),
 * or, when PostgreSQL is unreachable, a skipped block (a failing one under `CI=true`).
 *
 * @example
 * describePostgres('postgres: migrations', (database) => {
 *   it('…', async () => { await createPostgresStores({ connectionString: database().url }); });
 * });
 */
export function describePostgres(title: string, body: (database: () => TestDatabase) => void): void {
  if (reason !== null) {
    const message = `PostgreSQL at ${new URL(ADMIN_URL).host} is unreachable (${reason}); set TESSERA_TEST_POSTGRES_URL`;
    if (process.env.CI === 'true') {
      describe(title, () => {
        it('needs PostgreSQL (CI=true)', () => {
          throw new Error(message);
        });
      });
      return;
    }
    console.warn(`skipping "${title}": ${message}`);
    describe.skip(title, () => body(() => ({ name: '', url: '' })));
    return;
  }
  let database: TestDatabase | undefined;
  describe(title, () => {
    beforeAll(async () => {
      database = await createTestDatabase();
    });
    afterAll(async () => {
      if (database) await dropTestDatabase(database);
    });
    body(() => {
      if (!database) throw new Error('test database used outside its describe block');
      return database;
    });
  });
}
