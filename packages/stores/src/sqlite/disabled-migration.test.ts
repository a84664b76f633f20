import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { T0 } from '../contract/fixtures.js';
import { createSqliteStores } from './index.js';
import { migrate } from './migrate.js';
import { migrations } from './migrations.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-disabled-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite migration 6', () => {
  it('adds the disabled mark to a version-5 database: its users read back not disabled, and can be administered', async () => {
    const path = join(dir, 'v5.db');
    const v5 = new Database(path);
    expect(migrate(v5, migrations.slice(0, 5))).toEqual([1, 2, 3, 4, 5]);
    v5.exec(`
      INSERT INTO users (id, email, name, password_hash, roles, created_at, updated_at)
        VALUES ('u1', 'b@example.test', 'Ada', 'h1', '["admin"]', ${T0}, ${T0 + 1}),
               ('u2', 'a@example.test', NULL, 'h2', '[]', ${T0}, ${T0});
      INSERT INTO sessions (id, user_id, kind, secret_hash, csrf_token, created_at, last_seen_at, idle_expires_at, absolute_expires_at, user_agent, ip, revoked_at)
        VALUES ('s1', 'u1', 'token', NULL, NULL, ${T0}, ${T0}, ${T0 + 1e6}, ${T0 + 1e6}, NULL, NULL, NULL);
      INSERT INTO refresh_tokens (id, session_id, user_id, secret_hash, created_at, expires_at, rotated_at, successor_id, scope)
        VALUES ('rt1', 's1', 'u1', '${'ab'.repeat(32)}', ${T0}, ${T0 + 1e6}, NULL, NULL, '');`);
    v5.close();

    const stores = createSqliteStores({ path });
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
    const after = new Database(path, { readonly: true });
    try {
      expect(after.prepare('SELECT max(version) FROM schema_migrations').pluck().get()).toBe(migrations.length);
    } finally {
      after.close();
    }
  });
});
