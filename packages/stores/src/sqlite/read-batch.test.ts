import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeUser, seedSession, T0 } from '../contract/fixtures.js';
import { createSqliteStores } from './index.js';
import { createReadBatcher } from './read-batch.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-batch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

describe('sqlite read batching', () => {
  let path: string;
  let db: Database.Database;
  beforeEach(() => {
    path = join(dir, `b${++files}.db`);
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one'), (2, 'two')");
  });
  afterEach(() => {
    if (db.open) db.close();
  });

  it('runs the reads of one turn in one transaction, and a lone read on its own', async () => {
    const batch = createReadBatcher(db);
    const get = db.prepare<[number], { v: string }>('SELECT v FROM t WHERE id = ?');
    const seen = await Promise.all([1, 2, 1].map((id) => batch(() => ({ v: get.get(id)?.v, inTx: db.inTransaction }))));
    expect(seen).toEqual([
      { v: 'one', inTx: true },
      { v: 'two', inTx: true },
      { v: 'one', inTx: true },
    ]);
    expect(db.inTransaction).toBe(false);
    expect(await batch(() => db.inTransaction)).toBe(false);
  });

  it('reads after the call, not before: a write made in between by another process is seen', async () => {
    const batch = createReadBatcher(db);
    const get = db.prepare<[number], { v: string }>('SELECT v FROM t WHERE id = ?');
    const pending = [batch(() => get.get(1)?.v), batch(() => get.get(2)?.v)];
    const other = new Database(path);
    other.prepare('UPDATE t SET v = ? WHERE id = 1').run('changed');
    other.close();
    expect(await Promise.all(pending)).toEqual(['changed', 'two']);
  });

  it('a read that throws fails only its own caller and the transaction still ends', async () => {
    const batch = createReadBatcher(db);
    const results = await Promise.allSettled([
      batch(() => 'first'),
      batch(() => {
        throw new Error('boom');
      }),
      batch(() => db.prepare('SELECT no_such_column FROM t').get()),
      batch(() => 'last'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(results[0]).toMatchObject({ value: 'first' });
    expect(results[3]).toMatchObject({ value: 'last' });
    expect(db.inTransaction).toBe(false);
  });

  it('callers continue after the transaction has ended, so they may write', async () => {
    const batch = createReadBatcher(db);
    const inTx = await Promise.all([
      batch(() => 1).then(() => {
        db.prepare('UPDATE t SET v = ? WHERE id = 2').run('written');
        return db.inTransaction;
      }),
      batch(() => 2).then(() => db.inTransaction),
    ]);
    expect(inTx).toEqual([false, false]);
    expect(db.prepare('SELECT v FROM t WHERE id = 2').get()).toEqual({ v: 'written' });
  });

  it('inside a transaction already open, the reads join it instead of nesting', async () => {
    // A schedule that runs the batch inside the caller's own transaction.
    const batch = createReadBatcher(db, (run) => setImmediate(() => db.transaction(run)()));
    const values = await Promise.all([batch(() => db.inTransaction), batch(() => db.inTransaction)]);
    expect(values).toEqual([true, true]);
    expect(db.inTransaction).toBe(false);
  });

  it('a closed database rejects the reads instead of crashing', async () => {
    const batch = createReadBatcher(db);
    const get = db.prepare('SELECT v FROM t WHERE id = 1');
    const pending = Promise.allSettled([batch(() => get.get()), batch(() => get.get())]);
    db.close();
    const results = await pending;
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});

describe('sqlite session lookups under concurrency', () => {
  it('concurrent getWithUser calls each get their own session, revocations made before them included', async () => {
    const stores = createSqliteStores({ path: join(dir, `b${++files}.db`) });
    try {
      const user = makeUser();
      await stores.users.create(user);
      const sessions = await Promise.all(
        Array.from({ length: 8 }, (_, i) => seedSession(stores, { userId: user.id, kind: 'cookie', secretHash: `${i}`.repeat(64) })),
      );
      const revoked = sessions[3];
      if (!revoked) throw new Error('no session');
      await stores.sessions.revoke(revoked.id, T0 + 5);
      const found = await Promise.all([...sessions.map((s) => stores.sessions.getWithUser(s.id)), stores.sessions.getWithUser('nobody')]);
      expect(found.slice(0, 8).map((f) => f?.session.id)).toEqual(sessions.map((s) => s.id));
      expect(found.slice(0, 8).map((f) => f?.session.secretHash)).toEqual(sessions.map((s) => s.secretHash));
      expect(found.map((f) => f?.session.revokedAt ?? null)).toEqual([null, null, null, T0 + 5, null, null, null, null, null]);
      expect(found[0]?.user).toEqual({ id: user.id, email: user.email, name: user.name, roles: user.roles });
    } finally {
      await stores.close();
    }
  });
});
