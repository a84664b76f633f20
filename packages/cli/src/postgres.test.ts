// The `tessera` command against PostgreSQL with sessions in Redis: every administration
// command (test-admin-suite.ts) beside a running `tessera serve`. A fresh database and Redis
// prefix per run, dropped after. Skipped with the reason when either is missing; failing with
// CI=true.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminSuite } from './test-admin-suite.js';
import { backendsMissing, cleanUp, createDatabase, deleteRedisPrefix, REDIS_URL, randomKek, tempDir, tessera } from './test-support.js';

const missing = await backendsMissing();

if (missing !== null && process.env.CI !== 'true') {
  console.warn(`skipping the PostgreSQL + Redis tests of the tessera command: ${missing} (set CI=true to make this a failure)`);
  describe.skip('tessera on PostgreSQL + Redis', () => {
    it('needs PostgreSQL and Redis', () => {});
  });
} else {
  const prefix = `tessera-cli-test-${randomBytes(6).toString('hex')}:`;
  const kek = randomKek();
  let database: { url: string; drop(): Promise<void> } | undefined;
  let cwd = '';

  beforeAll(async () => {
    if (missing !== null) throw new Error(`CI=true: ${missing}`);
    database = await createDatabase();
    cwd = tempDir();
  });
  afterAll(async () => {
    cleanUp();
    await deleteRedisPrefix(prefix);
    await database?.drop();
  });

  const env = () => ({
    TESSERA_DATABASE_URL: database?.url ?? '',
    TESSERA_KEK: kek,
    TESSERA_REDIS_URL: REDIS_URL,
    TESSERA_REDIS_PREFIX: prefix,
    TESSERA_SESSION_STORE: 'redis',
    TESSERA_REDIS_CHANNEL: `${prefix}revocations`,
  });

  adminSuite('tessera on PostgreSQL + Redis', { env, cwd: () => cwd });

  describe('tessera on PostgreSQL: configuration', () => {
    it('refuses to start without TESSERA_KEK (exit 2), and a wrong KEK cannot open the keys (exit 2)', async () => {
      const { TESSERA_KEK: _, ...withoutKek } = env();
      const noKek = await tessera(['keys', 'list'], { env: withoutKek, cwd });
      expect(noKek.code).toBe(2);
      expect(noKek.stderr).toContain('TESSERA_KEK');
      const wrong = randomKek();
      const wrongKek = await tessera(['keys', 'list'], { env: { ...env(), TESSERA_KEK: wrong }, cwd });
      expect(wrongKek.code).toBe(2);
      expect(wrongKek.stderr).toContain('TESSERA_KEK');
      expect(wrongKek.stderr).not.toContain(wrong);
    });

    it('--database-url overrides TESSERA_DATABASE_URL for the admin commands', async () => {
      const result = await tessera(['users', 'list', '--json', '--database-url', database?.url ?? ''], {
        env: { ...env(), TESSERA_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' },
        cwd,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(Array.isArray(JSON.parse(result.stdout))).toBe(true);
    });
  });
}
