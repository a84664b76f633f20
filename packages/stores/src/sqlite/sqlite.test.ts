import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { makeKey, makeRefresh, makeUser, seedSession, T0 } from '../contract/fixtures.js';
import { describeStoreContract } from '../contract/store-contract.js';
import { isStoreUnavailable } from '../errors.js';
import { createSqliteStores } from './index.js';
import { migrate } from './migrate.js';
import { migrations } from './migrations.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const freshFile = (): string => join(dir, `t${++files}.db`);

describeStoreContract('sqlite', async () => createSqliteStores({ path: freshFile() }));

describe('sqlite', () => {
  it('keeps everything across close and reopen', async () => {
    const path = freshFile();
    const first = createSqliteStores({ path });
    const user = makeUser({ name: 'Ada', roles: ['admin'] });
    await first.users.create(user);
    const session = await seedSession(first, { userId: user.id, kind: 'cookie', secretHash: 'ab'.repeat(32), csrfToken: 'c' });
    const old = makeRefresh(session);
    const next = makeRefresh(session);
    await first.refreshTokens.create(old);
    await first.refreshTokens.rotate(old.id, next, T0 + 1);
    const key = makeKey('current');
    await first.keys.insert(key);
    const event = await first.revocations.append({ sid: session.id, sub: null, notBefore: 1, until: 2, reason: 'logout' });
    await first.rateLimits.recordFailure('k', T0, 60_000);
    await first.close();
    await first.close(); // idempotent

    const second = createSqliteStores({ path });
    try {
      expect(await second.users.findByEmail(user.email)).toEqual(user);
      expect(await second.sessions.get(session.id)).toEqual(session);
      expect(await second.refreshTokens.get(old.id)).toEqual({ ...old, rotatedAt: T0 + 1, successorId: next.id });
      expect(await second.refreshTokens.get(next.id)).toEqual(next);
      expect(await second.keys.list()).toEqual([key]);
      expect(await second.revocations.since(null, 10)).toEqual([event]);
      expect(await second.rateLimits.get('k', T0 + 1)).toEqual({ count: 1, lastAt: T0 });
      // The cursor sequence carries on rather than restarting.
      const later = await second.revocations.append({ sid: null, sub: user.id, notBefore: 3, until: 4, reason: 'admin' });
      expect(await second.revocations.since(event.cursor, 10)).toEqual([later]);
    } finally {
      await second.close();
    }
  });

  it('applies each migration once and records every version', async () => {
    const path = freshFile();
    await createSqliteStores({ path }).close();
    const db = new Database(path);
    try {
      const rows = () => db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
      const before = rows();
      expect(before.map((r) => (r as { version: number }).version)).toEqual(migrations.map((m) => m.version));
      expect(migrate(db)).toEqual([]);
      await createSqliteStores({ path }).close();
      expect(rows()).toEqual(before);
    } finally {
      db.close();
    }
  });

  it('upgrades a version-2 database in place: stored emails are re-keyed case-folded, unless that would merge two accounts', async () => {
    const path = freshFile();
    const v2 = new Database(path);
    expect(migrate(v2, migrations.slice(0, 2))).toEqual([1, 2]);
    const insert = v2.prepare(
      `INSERT INTO users (id, email, name, password_hash, roles, created_at, updated_at) VALUES (?, ?, NULL, 'h', '[]', ${T0}, ${T0})`,
    );
    // As the earlier rule (NFKC, lower-case) stored them.
    insert.run('u-sharp', 'straße@example.test');
    insert.run('u-sigma', 'οδος@example.test');
    insert.run('u-plain', 'plain@example.test');
    insert.run('u-twin', 'ﬁnς@example.test'.normalize('NFKC'));
    insert.run('u-taken', 'finσ@example.test');
    v2.close();
    const stores = createSqliteStores({ path });
    try {
      expect((await stores.users.findByEmail('strasse@example.test'))?.id).toBe('u-sharp');
      expect((await stores.users.findByEmail('οδοσ@example.test'))?.id).toBe('u-sigma');
      expect((await stores.users.findByEmail('plain@example.test'))?.id).toBe('u-plain');
      // Folding would have given u-twin the address u-taken holds: it keeps its old form.
      expect((await stores.users.findByEmail('finσ@example.test'))?.id).toBe('u-taken');
      expect((await stores.users.findByEmail('finς@example.test'))?.id).toBe('u-twin');
    } finally {
      await stores.close();
    }
  });

  it('upgrades a version-1 database in place: refresh tokens stored before scopes were recorded read back with scope null', async () => {
    const path = freshFile();
    const v1 = new Database(path);
    expect(migrate(v1, migrations.slice(0, 1))).toEqual([1]);
    v1.exec(`INSERT INTO users (id, email, name, password_hash, roles, created_at, updated_at) VALUES ('u1', 'a@example.test', NULL, 'h', '[]', ${T0}, ${T0});
      INSERT INTO sessions (id, user_id, kind, secret_hash, csrf_token, created_at, last_seen_at, idle_expires_at, absolute_expires_at, user_agent, ip, revoked_at)
        VALUES ('s1', 'u1', 'token', NULL, NULL, ${T0}, ${T0}, ${T0 + 1e6}, ${T0 + 1e6}, NULL, NULL, NULL);
      INSERT INTO refresh_tokens (id, session_id, user_id, secret_hash, created_at, expires_at, rotated_at, successor_id)
        VALUES ('rt1', 's1', 'u1', '${'ab'.repeat(32)}', ${T0}, ${T0 + 1e6}, NULL, NULL);`);
    v1.close();
    const stores = createSqliteStores({ path });
    try {
      expect(await stores.refreshTokens.get('rt1')).toMatchObject({ id: 'rt1', sessionId: 's1', scope: null });
    } finally {
      await stores.close();
    }
  });

  it('refuses a database migrated by a newer version, naming both versions', async () => {
    const path = freshFile();
    await createSqliteStores({ path }).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(999, 'from the future', T0);
    db.close();
    expect(() => createSqliteStores({ path })).toThrow(
      `database schema version 999 is newer than this version of Tessera supports (${migrations.length})`,
    );
  });

  it('sets WAL, busy_timeout, foreign keys and synchronous=NORMAL on a database it is handed', async () => {
    const db = new Database(freshFile());
    const stores = createSqliteStores({ database: db, busyTimeoutMs: 1234 });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    await stores.close();
    expect(db.open).toBe(false);
  });

  it('ping rejects once closed', async () => {
    const stores = createSqliteStores({ path: ':memory:' });
    await stores.ping();
    await stores.close();
    await expect(stores.ping()).rejects.toThrow();
  });
});

// A full or read-only disk answered 500 while /readyz said ready: ping must write, and the
// failure must be recognisable as an outage (503), not a bug (500).
describe('sqlite: a database that cannot be written', () => {
  it('read-only: ping fails with an error isStoreUnavailable recognises, and passes once writable again', async () => {
    const db = new Database(freshFile());
    const stores = createSqliteStores({ database: db });
    try {
      await stores.ping();
      db.pragma('query_only = 1');
      const err = await stores.ping().catch((e: unknown) => e);
      expect((err as { code?: string }).code).toMatch(/^SQLITE_READONLY/);
      expect(isStoreUnavailable(err)).toBe(true);
      db.pragma('query_only = 0');
      await stores.ping();
    } finally {
      await stores.close();
    }
  });

  it('full: a write past the size limit fails with an outage error, and nothing is half-written', async () => {
    const db = new Database(freshFile());
    const stores = createSqliteStores({ database: db });
    try {
      const pages = db.pragma('page_count', { simple: true }) as number;
      db.pragma(`max_page_count = ${pages}`);
      const err = await (async () => {
        for (let i = 0; i < 1000; i++) await stores.users.create(makeUser({ name: 'x'.repeat(2000) }));
      })().catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('SQLITE_FULL');
      expect(isStoreUnavailable(err)).toBe(true);
      expect(isStoreUnavailable(new Error('a bug'))).toBe(false);
      db.pragma('max_page_count = 1073741823');
      await stores.users.create(makeUser());
    } finally {
      await stores.close();
    }
  });
});
