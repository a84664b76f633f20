import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { T0 } from '../contract/fixtures.js';
import { createSqliteStores } from './index.js';
import { migrate } from './migrate.js';
import { migrations } from './migrations.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-csrf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite migration 5', () => {
  // Plain CSRF tokens at rest: sessions from before the server derived its CSRF tokens kept them in plain text.
  it('clears the plain csrf_token of every session stored before it, and keeps the sessions', async () => {
    const path = join(dir, 'v4.db');
    const v4 = new Database(path);
    expect(migrate(v4, migrations.slice(0, 4))).toEqual([1, 2, 3, 4]);
    const insert = v4.prepare<[string, string | null]>(
      `INSERT INTO sessions (id, user_id, kind, secret_hash, csrf_token, created_at, last_seen_at, idle_expires_at, absolute_expires_at, user_agent, ip, revoked_at)
       VALUES (?, 'u1', 'cookie', '${'ab'.repeat(32)}', ?, ${T0}, ${T0}, ${T0 + 1e6}, ${T0 + 1e6}, NULL, NULL, NULL)`,
    );
    v4.exec(
      `INSERT INTO users (id, email, name, password_hash, roles, created_at, updated_at) VALUES ('u1', 'a@example.test', NULL, 'h', '[]', ${T0}, ${T0})`,
    );
    insert.run('s1', 'plain-csrf-token-one');
    insert.run('s2', 'plain-csrf-token-two');
    insert.run('s3', null);
    v4.close();

    const stores = createSqliteStores({ path });
    try {
      for (const id of ['s1', 's2', 's3']) {
        expect(await stores.sessions.get(id)).toMatchObject({ id, kind: 'cookie', secretHash: 'ab'.repeat(32), csrfToken: null });
      }
    } finally {
      await stores.close();
    }
    const after = new Database(path, { readonly: true });
    try {
      expect(after.prepare('SELECT count(*) FROM sessions WHERE csrf_token IS NOT NULL').pluck().get()).toBe(0);
      expect(after.prepare('SELECT max(version) FROM schema_migrations').pluck().get()).toBe(migrations.length);
    } finally {
      after.close();
    }
  });
});
