import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeUser } from './contract/fixtures.js';
import { StoreConfigError } from './errors.js';
import { openStores } from './open.js';
import { describePostgres } from './postgres/test-database.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openStores', () => {
  it('memory: opens in-process stores', async () => {
    const stores = await openStores('memory:');
    await stores.ping();
    await stores.close();
  });

  it('sqlite:<relative path> creates the directory, and the data is there on reopen', async () => {
    const file = join(dir, 'nested', 'deeper', 'tessera.db');
    const url = `sqlite:${relative(process.cwd(), file)}`;
    const user = makeUser();
    const first = await openStores(url);
    await first.users.create(user);
    await first.close();
    expect(existsSync(file)).toBe(true);
    const second = await openStores(`sqlite://${file}`);
    expect(await second.users.findById(user.id)).toEqual(user);
    await second.close();
  });

  it('sqlite::memory: opens a private in-memory database', async () => {
    const stores = await openStores('sqlite::memory:');
    await stores.users.create(makeUser());
    await stores.close();
  });

  it('refuses other schemes, naming the variable and the supported schemes but not the URL', async () => {
    const err: unknown = await openStores('mysql://tessera:hunter2@db.internal/tessera').catch((e: unknown) => e);
    if (!(err instanceof StoreConfigError)) throw new Error('expected openStores to reject with a StoreConfigError');
    expect(err.variable).toBe('TESSERA_DATABASE_URL');
    expect(err.message).toContain('mysql:');
    expect(err.message).toContain('postgres:');
    expect(err.message).toContain('sqlite:');
    expect(err.message).toContain('memory:');
    expect(err.message).not.toContain('hunter2');
    await expect(openStores('sqlite:')).rejects.toThrow('TESSERA_DATABASE_URL');
    await expect(openStores('./data/tessera.db')).rejects.toThrow('TESSERA_DATABASE_URL');
  });

  it('an unreachable PostgreSQL or Redis fails the open naming its variable, never the password', async () => {
    const pg: unknown = await openStores('postgres://tessera:hunter2@127.0.0.1:1/tessera').catch((e: unknown) => e);
    expect(pg).toBeInstanceOf(StoreConfigError);
    expect((pg as StoreConfigError).variable).toBe('TESSERA_DATABASE_URL');
    expect((pg as Error).message).toMatch(/cannot be reached/);
    expect((pg as Error).message).not.toContain('hunter2');
    const redis: unknown = await openStores('memory:', { redisUrl: 'redis://:hunter2@127.0.0.1:1' }).catch((e: unknown) => e);
    expect(redis).toBeInstanceOf(StoreConfigError);
    expect((redis as StoreConfigError).variable).toBe('TESSERA_REDIS_URL');
    expect((redis as Error).message).not.toContain('hunter2');
    const bad: unknown = await openStores('memory:', { redisUrl: 'http://:hunter2@x' }).catch((e: unknown) => e);
    expect((bad as StoreConfigError).variable).toBe('TESSERA_REDIS_URL');
    expect((bad as Error).message).not.toContain('hunter2');
    await expect(openStores('memory:', { sessionStore: 'redis' })).rejects.toThrow('TESSERA_SESSION_STORE');
  });

  it('importing @tessera/stores loads no database driver; each backend loads its own when opened', () => {
    const script = `
      import { createRequire } from 'node:module';
      const { openStores } = await import('@tessera/stores');
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).filter((f) => /node_modules\\/(better-sqlite3|pg|ioredis)\\//.test(f));
      const before = loaded();
      const stores = await openStores('sqlite::memory:');
      await stores.close();
      console.log(JSON.stringify({ before, after: loaded() }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const { before, after } = JSON.parse(out) as { before: string[]; after: string[] };
    expect(before).toEqual([]);
    expect(after.some((f) => f.includes('better-sqlite3'))).toBe(true);
    expect(after.some((f) => /node_modules\/(pg|ioredis)\//.test(f))).toBe(false);
  });
});

// Data files readable by every local user: they hold argon2 hashes, emails, addresses and
// session data, so the directory is created 0700 and every file 0600 (an older 0644 one tightened).
describe('openStores: data files are readable by their owner only', () => {
  it('a new directory is 0700; the database and its -wal and -shm files are 0600, also when they existed as 0644', async () => {
    const dataDir = join(dir, 'private');
    const file = join(dataDir, 'tessera.db');
    const first = await openStores(`sqlite:${file}`);
    await first.users.create(makeUser());
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) expect(statSync(f).mode & 0o777).toBe(0o600);
    await first.close();
    chmodSync(file, 0o644);
    const second = await openStores(`sqlite:${file}`);
    await second.users.create(makeUser());
    for (const f of [file, `${file}-wal`, `${file}-shm`]) expect(statSync(f).mode & 0o777).toBe(0o600);
    await second.close();
  });
});

describePostgres('openStores: PostgreSQL refuses, or the URL is wrong', (database) => {
  it('no such database, no such role, a URL that does not parse, a SQLite file that cannot be opened: the variable is named', async () => {
    const url = new URL(database().url);
    const cases: [string, RegExp][] = [
      [Object.assign(new URL(url), { pathname: '/tessera_no_such_database' }).toString(), /refused the connection: .*\(3D000\)/],
      [Object.assign(new URL(url), { username: 'tessera_no_such_role', password: 'hunter2' }).toString(), /refused the connection: .*\(28/],
      ['postgres://u:hunter2@[bad', /is not a valid URL/],
      [`sqlite:${join(dir, 'not-a-database')}`, /cannot be opened \(SQLITE_NOTADB\)/],
    ];
    execFileSync('sh', ['-c', `printf 'this is no database file at all, just text' > ${join(dir, 'not-a-database')}`]);
    for (const [databaseUrl, message] of cases) {
      const err: unknown = await openStores(databaseUrl).catch((e: unknown) => e);
      expect(err, databaseUrl).toBeInstanceOf(StoreConfigError);
      expect((err as StoreConfigError).variable).toBe('TESSERA_DATABASE_URL');
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});
