import { spawnSync } from 'node:child_process';
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
    // A run-time SQLite error, raised while the shared transaction is open.
    const malformed = db.prepare("SELECT json_extract('not json', '$') AS x");
    const results = await Promise.allSettled([
      batch(() => 'first'),
      batch(() => {
        throw new Error('boom');
      }),
      batch(() => malformed.get()),
      batch(() => db.prepare<[number], { v: string }>('SELECT v FROM t WHERE id = ?').get(2)?.v),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(results[0]).toMatchObject({ value: 'first' });
    expect(results[2]).toMatchObject({ reason: expect.objectContaining({ code: 'SQLITE_ERROR' }) });
    expect(results[3]).toMatchObject({ value: 'two' });
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

  it('inside a transaction already open, the reads join it and leave it open', async () => {
    let stillOpen: boolean | undefined;
    // A schedule that runs the batch inside a transaction of the caller's, which has written a row.
    const batch = createReadBatcher(db, (run) =>
      setImmediate(() =>
        db.transaction(() => {
          db.prepare('UPDATE t SET v = ? WHERE id = 1').run('uncommitted');
          run();
          stillOpen = db.inTransaction;
          db.prepare('UPDATE t SET v = ? WHERE id = 2').run('after the batch');
        })(),
      ),
    );
    const get = db.prepare<[number], { v: string }>('SELECT v FROM t WHERE id = ?');
    expect(await Promise.all([batch(() => get.get(1)?.v), batch(() => get.get(2)?.v)])).toEqual(['uncommitted', 'two']);
    expect(stillOpen).toBe(true);
    expect(db.inTransaction).toBe(false);
    expect(get.all(1).concat(get.all(2))).toEqual([{ v: 'uncommitted' }, { v: 'after the batch' }]);
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
  it('concurrent getWithUser calls each get their own session, as of when they run', async () => {
    const stores = createSqliteStores({ path: join(dir, `b${++files}.db`) });
    try {
      const user = makeUser();
      await stores.users.create(user);
      const sessions = await Promise.all(
        Array.from({ length: 8 }, (_, i) => seedSession(stores, { userId: user.id, kind: 'cookie', secretHash: `${i}`.repeat(64) })),
      );
      const revoked = sessions[3];
      if (!revoked) throw new Error('no session');
      // All lookups asked for in one turn; a revocation written in that same turn, after they were
      // asked for, is seen by them: nothing is read before the batch runs.
      const pending = Promise.all([...sessions.map((s) => stores.sessions.getWithUser(s.id)), stores.sessions.getWithUser('nobody')]);
      const revoking = stores.sessions.revoke(revoked.id, T0 + 5);
      const found = await pending;
      expect(await revoking).toBe(true);
      expect(found.slice(0, 8).map((f) => f?.session.id)).toEqual(sessions.map((s) => s.id));
      expect(found.slice(0, 8).map((f) => f?.session.secretHash)).toEqual(sessions.map((s) => s.secretHash));
      expect(found.map((f) => f?.session.revokedAt ?? null)).toEqual([null, null, null, T0 + 5, null, null, null, null, null]);
      expect(found[0]?.user).toEqual({ id: user.id, email: user.email, name: user.name, roles: user.roles, disabledAt: null });
    } finally {
      await stores.close();
    }
  });
});

describe('sqlite read batching, misuse', () => {
  it('a read that leaves its statement running stops the process rather than keep the connection in a transaction', () => {
    const script = `
      import Database from 'better-sqlite3';
      import { createReadBatcher } from ${JSON.stringify(new URL('./read-batch.ts', import.meta.url).pathname)};
      const db = new Database(${JSON.stringify(join(dir, 'misuse.db'))});
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY); INSERT OR IGNORE INTO t VALUES (1), (2)');
      const batch = createReadBatcher(db);
      const select = db.prepare('SELECT id FROM t');
      // The first read starts an iteration inside the batch's transaction and never finishes it.
      await Promise.all([batch(() => select.iterate().next()), batch(() => 2)]);
      setTimeout(() => console.log('still running'), 200);
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.stdout).not.toContain('still running');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('cannot be ended');
  });
});
