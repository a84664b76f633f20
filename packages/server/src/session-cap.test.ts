// The per-user session cap (least recently used ones end, with their events), on the memory and
// PostgreSQL stores (PostgreSQL lists the sessions in the read that rechecks the account), and the
// paged session list.
import { createMemoryStores, openStores, type Session, type Stores } from '@tessera/stores';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePostgres } from '../../stores/src/postgres/test-database.js';
import { createTestApp, type TestApp } from './test-app.js';
import {
  bearer,
  cookieLogin,
  decodePayload,
  expectError,
  expectInvalidToken,
  json,
  me,
  refreshGrant,
  register,
  tokenLogin,
} from './test-helpers.js';

interface Page {
  sessions: { id: string; current: boolean }[];
  next_cursor: string | null;
}

describe('the per-user session cap (memory store)', () => sessionCap(() => createMemoryStores()));
describePostgres('the per-user session cap (postgres store)', (database) => sessionCap(() => openStores(database().url)));

function sessionCap(open: () => Stores | Promise<Stores>): void {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TESSERA_MAX_SESSIONS_PER_USER: '3' }, await open());
  });
  afterAll(async () => {
    await t.app.close();
    await t.stores.close();
  });

  const live = async (userId: string) => (await t.stores.sessions.listActive(userId, t.clock.now)).map((s) => s.id).sort();

  // No cap on sessions per user: 10 000 logins for one user kept 10 000 live sessions.
  it('no cap on sessions per user: a login past TESSERA_MAX_SESSIONS_PER_USER ends the least recently used', async () => {
    const user = await register(t.app);
    const a = await tokenLogin(t.app, user);
    t.clock.advance(1000);
    const b = await cookieLogin(t.app, user);
    t.clock.advance(1000);
    const c = await tokenLogin(t.app, user);
    const [sidA, sidC] = [a, c].map((x) => decodePayload(x.access_token).sid as string) as [string, string];

    // A is used again (a refresh, a minute later): B, then C, are now the least recently used.
    t.clock.advance(61_000);
    const refreshed = await refreshGrant(t.app, a.refresh_token);
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    const a2 = json<{ access_token: string }>(refreshed);

    const d = await cookieLogin(t.app, user);
    expect(await live(user.id)).toEqual([sidA, sidC, d.sid].sort());
    expect((await me(t.app, b.cookie)).statusCode).toBe(401);

    t.clock.advance(1000);
    const e = await tokenLogin(t.app, user);
    const sidE = decodePayload(e.access_token).sid as string;
    expect(await live(user.id)).toEqual([sidA, d.sid, sidE].sort());
    // The evicted token session's access token is refused at once (its event), and so is its refresh.
    expectInvalidToken(await me(t.app, bearer(c.access_token)));
    expectError(await refreshGrant(t.app, c.refresh_token), 400, 'invalid_grant');
    // The survivors work.
    expect((await me(t.app, bearer(a2.access_token))).statusCode).toBe(200);
    expect((await me(t.app, d.cookie)).statusCode).toBe(200);
    expect((await me(t.app, bearer(e.access_token))).statusCode).toBe(200);

    // Each eviction wrote its event.
    const events = await t.stores.revocations.since(null, 1000);
    const evicted = events.filter((ev) => ev.reason === 'session_limit').map((ev) => ev.sid);
    expect(evicted.sort()).toEqual([b.sid, sidC].sort());
  });

  it('keeps every user at the cap however many logins, and never ends another user’s sessions', async () => {
    const user = await register(t.app);
    const other = await register(t.app);
    const others = await tokenLogin(t.app, other);
    for (let i = 0; i < 7; i++) {
      await (i % 2 === 0 ? tokenLogin(t.app, user) : cookieLogin(t.app, user));
      t.clock.advance(1000);
      expect((await live(user.id)).length).toBe(Math.min(i + 1, 3));
    }
    expect((await me(t.app, bearer(others.access_token))).statusCode).toBe(200);
  });
}

describe('GET /v1/sessions, paged', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  /** `count` token sessions of `userId` straight into the store (no argon2), some sharing a createdAt. */
  const seed = async (userId: string, count: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = `seed${String(i).padStart(4, '0')}${Math.random().toString(36).slice(2, 10)}`;
      const session: Session = {
        id,
        userId,
        kind: 'token',
        secretHash: null,
        csrfToken: null,
        // Pairs share a creation time, so the id breaks ties across page boundaries.
        createdAt: t.clock.now - 10_000 + Math.floor(i / 2),
        lastSeenAt: t.clock.now,
        idleExpiresAt: t.clock.now + 3_600_000,
        absoluteExpiresAt: t.clock.now + 3_600_000,
        userAgent: null,
        ip: null,
        revokedAt: null,
      };
      await t.stores.sessions.create(session);
      ids.push(id);
    }
    return ids;
  };

  const get = (url: string, headers: Record<string, string>) => t.app.inject({ method: 'GET', url, headers });

  // The session list is unpaginated: 10 000 sessions made GET /v1/sessions answer 2.2 MB.
  it('the session list is unpaginated: 50 by default, next_cursor to the next page, every session exactly once', async () => {
    const user = await register(t.app);
    const tokens = await tokenLogin(t.app, user);
    const seeded = await seed(user.id, 123);
    const all = [...seeded, decodePayload(tokens.access_token).sid as string].sort();

    const first = await get('/v1/sessions', bearer(tokens.access_token));
    expect(first.statusCode, first.body).toBe(200);
    const page = json<Page>(first);
    expect(page.sessions).toHaveLength(50);
    // Newest first: the login's own session leads.
    expect(page.sessions[0]?.current).toBe(true);
    expect(page.next_cursor).toBe(page.sessions[49]?.id);

    for (const limit of [7, 50, 100]) {
      const seen: string[] = [];
      let pages = 0;
      let cursor: string | null = null;
      do {
        const url: string = `/v1/sessions?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await get(url, bearer(tokens.access_token));
        expect(res.statusCode, res.body).toBe(200);
        const body = json<Page>(res);
        expect(body.sessions.length).toBeLessThanOrEqual(limit);
        seen.push(...body.sessions.map((s) => s.id));
        cursor = body.next_cursor;
        pages += 1;
      } while (cursor !== null);
      expect(pages).toBe(Math.ceil(all.length / limit));
      expect(seen.length).toBe(new Set(seen).size);
      expect([...seen].sort()).toEqual(all);
    }
  });

  it('refuses a malformed limit or cursor with 400 invalid_request', async () => {
    const user = await register(t.app);
    const tokens = await tokenLogin(t.app, user);
    for (const query of [
      'limit=0',
      'limit=101',
      'limit=abc',
      'limit=1.5',
      'limit=-1',
      'limit=',
      'limit=1&limit=2',
      'cursor=',
      'cursor=a%20b',
      `cursor=${'a'.repeat(65)}`,
    ]) {
      expectError(await get(`/v1/sessions?${query}`, bearer(tokens.access_token)), 400, 'invalid_request');
    }
    // A well-formed cursor that names none of the user's sessions is an empty last page.
    const res = await get('/v1/sessions?cursor=AAAAAAAAAAAAAAAAAAAAAA', bearer(tokens.access_token));
    expect(json<Page>(res)).toEqual({ sessions: [], next_cursor: null });
  });
});
