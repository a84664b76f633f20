import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStores } from '@tessera/stores';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import {
  bearer,
  expectError,
  json,
  PASSWORD,
  passwordGrant,
  type Response,
  refreshGrant,
  register,
  sessionLogin,
  type Tokens,
  tokenLogin,
  uniqueEmail,
} from './test-helpers.js';

/**
 * The disk under a real SQLite database fills up or turns read-only, then comes back. Every
 * request that must write answers 503 `temporarily_unavailable` with `Retry-After` (it used to
 * answer 500 `server_error`, with no hint to retry), /readyz fails (it used to stay 200), Bearer
 * verification keeps working (it needs no store), the log says so once, and everything recovers
 * without a restart.
 */

interface Outage {
  name: string;
  /**
   * Attempts a write may take before it must be refused. On a full database a row that still fits
   * in a page its table already has is written; only the next page is refused. Small pages (see
   * {@link sqliteApp}) make that a write or two.
   */
  attempts: number;
  /**
   * Whether a logout must be refused. On a database that is merely full it may succeed: it
   * deletes the session's refresh tokens first, and the pages that frees take its revocation event.
   */
  logoutRefused: boolean;
  /** Makes writes fail, on the handle the stores use. */
  begin(db: Database.Database): void;
  end(db: Database.Database): void;
}

const OUTAGES: Outage[] = [
  {
    // The database may not grow past its current size, and its free space is filled first: a full disk.
    name: 'a full disk (SQLITE_FULL)',
    attempts: 12,
    logoutRefused: false,
    begin(db) {
      db.exec('CREATE TABLE IF NOT EXISTS filler (x BLOB)');
      const pages = db.pragma('page_count', { simple: true }) as number;
      db.pragma(`max_page_count = ${pages}`);
      const fill = db.prepare('INSERT INTO filler (x) VALUES (randomblob(?))');
      // Large rows fill whole pages, smaller ones the gaps left in every page.
      for (const size of [4000, 1000, 200, 40, 1]) {
        try {
          for (;;) fill.run(size);
        } catch (err) {
          expect((err as { code?: string }).code).toMatch(/^SQLITE_FULL/);
        }
      }
    },
    end(db) {
      db.pragma('max_page_count = 1073741823');
      db.exec('DROP TABLE filler');
    },
  },
  {
    name: 'a read-only database (SQLITE_READONLY)',
    attempts: 1,
    logoutRefused: true,
    begin(db) {
      db.pragma('query_only = 1');
    },
    end(db) {
      db.pragma('query_only = 0');
    },
  },
];

interface LogLine {
  level: number;
  msg: string;
}

const dirs: string[] = [];
let t: TestApp | undefined;
/** Undoes the outage a failed test left in place, so the database closes cleanly. */
let restore: (() => void) | undefined;
afterEach(async () => {
  restore?.();
  restore = undefined;
  await t?.app.close();
  await t?.stores.close();
  t = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The real app over a real SQLite file whose handle the test keeps, with its log captured. */
async function sqliteApp(): Promise<{ t: TestApp; db: Database.Database; logs: LogLine[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-outage-'));
  dirs.push(dir);
  const db = new Database(join(dir, 'tessera.db'));
  // The smallest page SQLite allows, set before the file is written: a few rows fill one, so on a
  // full database nearly every insert needs a page it cannot have.
  db.pragma('page_size = 512');
  const logs: LogLine[] = [];
  const stream = { write: (line: string) => logs.push(JSON.parse(line) as LogLine) };
  t = await createTestApp({ TESSERA_SIGNUPS_PER_HOUR: '1000' }, createSqliteStores({ database: db }), {
    logger: { level: 'info', stream },
  });
  return { t, db, logs };
}

function expectUnavailable(res: Response): void {
  expectError(res, 503, 'temporarily_unavailable');
  expect(res.headers['retry-after']).toBe('5');
}

/**
 * Sends `attempt(i)` until it is refused, at most `max` times: every answer before the refusal
 * must be the success `ok`, and the refusal a 503 with `Retry-After`, never a 500. Unless
 * `required` is false, one of them must be refused.
 */
async function refusedWithin(max: number, ok: number, attempt: (i: number) => Promise<Response>, required = true): Promise<void> {
  for (let i = 0; i < max; i++) {
    const res = await attempt(i);
    if (res.statusCode === ok) continue;
    expectUnavailable(res);
    return;
  }
  if (required) expect.fail(`still answering ${ok} after ${max} attempts`);
}

const logout = (app: TestApp['app'], accessToken: string) =>
  app.inject({ method: 'POST', url: '/v1/logout', headers: bearer(accessToken) });
const readyz = (app: TestApp['app']) => app.inject({ method: 'GET', url: '/readyz' });

describe('store outage on SQLite', () => {
  it.each(OUTAGES)(
    '$name: writes answer 503 with Retry-After, never 500; /readyz fails; Bearer still works; all recovers unaided',
    async (outage) => {
      const { t, db, logs } = await sqliteApp();
      const user = await register(t.app);
      const tokens = await tokenLogin(t.app, user);
      // Logins to log out of, one per attempt.
      const spare = await Promise.all(Array.from({ length: outage.attempts }, () => tokenLogin(t.app, user)));
      expect((await readyz(t.app)).statusCode).toBe(200);

      outage.begin(db);
      restore = () => outage.end(db);
      const n = outage.attempts;
      // The right password: the login throttle writes before the password is even checked.
      await refusedWithin(n, 200, () => passwordGrant(t.app, user.email, user.password));
      await refusedWithin(n, 201, () => sessionLogin(t.app, user.email, user.password));
      await refusedWithin(n, 201, () =>
        t.app.inject({ method: 'POST', url: '/v1/users', payload: { email: uniqueEmail(), password: PASSWORD } }),
      );
      let refreshToken = tokens.refresh_token;
      await refusedWithin(n, 200, async () => {
        const res = await refreshGrant(t.app, refreshToken);
        if (res.statusCode === 200) refreshToken = json<{ refresh_token: string }>(res).refresh_token;
        return res;
      });
      await refusedWithin(n, 204, (i) => logout(t.app, (spare[i] as Tokens).access_token), outage.logoutRefused);
      const notReady = await readyz(t.app);
      expectError(notReady, 503, 'not_ready');
      expect(notReady.headers['retry-after']).toBe('5');
      // Verified from the token alone: no store read, so the outage does not touch it.
      const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(tokens.access_token) });
      expect(me.statusCode, me.body).toBe(200);

      // One line for the whole episode, not one per request.
      const errors = logs.filter((l) => l.level >= 50);
      expect(errors.map((l) => l.msg)).toEqual([expect.stringMatching(/^store unavailable/)]);

      restore();
      restore = undefined;
      // Readiness waits out the hold window after the last failure seen, then a ping decides.
      expect((await readyz(t.app)).statusCode).toBe(503);
      t.clock.advance(6_000);
      expect((await readyz(t.app)).statusCode).toBe(200);
      expect(logs.filter((l) => l.msg === 'store available again')).toHaveLength(1);

      // The refused rotation left the refresh token as it was: it still works.
      const refreshed = await refreshGrant(t.app, refreshToken);
      expect(refreshed.statusCode, refreshed.body).toBe(200);
      expect((await passwordGrant(t.app, user.email, user.password)).statusCode).toBe(200);
      expect((await sessionLogin(t.app, user.email, user.password)).statusCode).toBe(201);
      await register(t.app);
      const next = json<{ access_token: string }>(refreshed);
      expect((await logout(t.app, next.access_token)).statusCode).toBe(204);
      expect(logs.filter((l) => l.level >= 50)).toHaveLength(1);
    },
  );

  it('a ping that cannot write fails readiness even when no request has failed', async () => {
    const { t, db } = await sqliteApp();
    db.pragma('query_only = 1');
    const notReady = await readyz(t.app);
    db.pragma('query_only = 0');
    expectError(notReady, 503, 'not_ready');
    // No request failed: the next ping that succeeds is enough.
    expect((await readyz(t.app)).statusCode).toBe(200);
  });

  it('an outage that outlasts a minute is logged again, with the count of failures since', async () => {
    const { t, db, logs } = await sqliteApp();
    const user = await register(t.app);
    db.pragma('query_only = 1');
    restore = () => db.pragma('query_only = 0');
    for (let i = 0; i < 5; i++) expectUnavailable(await passwordGrant(t.app, user.email, user.password));
    t.clock.advance(61_000);
    expectUnavailable(await passwordGrant(t.app, user.email, user.password));
    const errors = logs.filter((l) => l.level >= 50) as (LogLine & { failures: number })[];
    expect(errors.map((l) => [l.msg.split(':')[0], l.failures])).toEqual([
      ['store unavailable', 1],
      ['store still unavailable', 5],
    ]);
  });
});
