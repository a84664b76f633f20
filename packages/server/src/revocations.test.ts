import { beforeAll, describe, expect, it } from 'vitest';
import { cleanUp } from './lib/clean-up.js';
import { createTestApp, type TestApp } from './test-app.js';
import {
  bearer,
  cookieLogin,
  decodePayload,
  expectError,
  FEED_ENV,
  feedAuth,
  json,
  type Registered,
  refreshGrant,
  register,
  revocations,
  tokenLogin,
} from './test-helpers.js';

interface Event {
  cursor: string;
  sid: string | null;
  sub: string | null;
  not_before: number;
  until: number;
}

describe('GET /v1/revocations', () => {
  let t: TestApp;
  let user: Registered;
  beforeAll(async () => {
    t = await createTestApp(FEED_ENV);
    user = await register(t.app);
  });

  /** Runs `fn` and returns the events it wrote. */
  async function written(fn: () => Promise<void>): Promise<Event[]> {
    const before = (await revocations(t.app, '0')).cursor;
    await fn();
    const { events } = await revocations(t.app, before);
    return events as Event[];
  }

  const sidOf = (token: string) => decodePayload(token).sid as string;

  it('writes one event per revoked session, for every kind of revocation', async () => {
    const nowSeconds = Math.ceil(t.clock.now / 1000);

    const a = await tokenLogin(t.app, user);
    let events = await written(async () => {
      await t.app.inject({ method: 'POST', url: '/v1/logout', headers: bearer(a.access_token) });
    });
    expect(events.map((e) => e.sid)).toEqual([sidOf(a.access_token)]);
    expect(events[0]).toMatchObject({ sub: null, not_before: nowSeconds + 1, until: nowSeconds + 600 + 30 + 1 });

    const b = await tokenLogin(t.app, user);
    events = await written(async () => {
      await t.app.inject({ method: 'POST', url: '/v1/logout', payload: { refresh_token: b.refresh_token } });
    });
    expect(events.map((e) => e.sid)).toEqual([sidOf(b.access_token)]);

    const c = await cookieLogin(t.app, user);
    events = await written(async () => {
      await t.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: c.csrfHeaders });
    });
    expect(events.map((e) => e.sid)).toEqual([c.sid]);

    const d = await tokenLogin(t.app, user);
    const e = await tokenLogin(t.app, user);
    events = await written(async () => {
      await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${sidOf(d.access_token)}`, headers: bearer(e.access_token) });
    });
    expect(events.map((x) => x.sid)).toEqual([sidOf(d.access_token)]);

    const f = await tokenLogin(t.app, user);
    events = await written(async () => {
      await refreshGrant(t.app, f.refresh_token);
      t.clock.advance(11_000);
      await refreshGrant(t.app, f.refresh_token);
    });
    expect(events.map((x) => x.sid)).toEqual([sidOf(f.access_token)]);

    const g = await tokenLogin(t.app, user);
    events = await written(async () => {
      await t.app.inject({ method: 'POST', url: '/oauth/revoke', payload: { token: g.refresh_token } });
    });
    expect(events.map((x) => x.sid)).toEqual([sidOf(g.access_token)]);

    const keep = await tokenLogin(t.app, user);
    const h = await cookieLogin(t.app, user);
    const i = await tokenLogin(t.app, user);
    events = await written(async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/me/password',
        headers: bearer(keep.access_token),
        payload: { current_password: user.password, new_password: 'the brand new passphrase' },
      });
      expect(res.statusCode).toBe(204);
    });
    expect(events.map((x) => x.sid).sort()).toEqual([h.sid, sidOf(i.access_token), sidOf(e.access_token)].sort());
    user.password = 'the brand new passphrase';

    const j = await tokenLogin(t.app, user);
    events = await written(async () => {
      await t.app.inject({ method: 'DELETE', url: '/v1/sessions', headers: bearer(j.access_token) });
    });
    expect(events.map((x) => x.sid).sort()).toEqual([sidOf(keep.access_token), sidOf(j.access_token)].sort());

    // A second logout of a dead session writes nothing.
    events = await written(async () => {
      await t.app.inject({ method: 'POST', url: '/v1/logout', payload: { refresh_token: j.refresh_token } });
    });
    expect(events).toEqual([]);
  });

  it('returns events oldest first with increasing cursors, and since=<cursor> only later ones', async () => {
    const all = await revocations(t.app, '0');
    expect(all.events.length).toBeGreaterThanOrEqual(3);
    const cursors = all.events.map((e) => Number(e.cursor));
    expect(cursors).toEqual([...cursors].sort((x, y) => x - y));
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(all.cursor).toBe(all.events.at(-1)?.cursor);

    const mid = all.events[1] as Event;
    const later = await revocations(t.app, mid.cursor);
    expect(later.events).toEqual(all.events.slice(2));
    // Caught up: no events, the same cursor back.
    const none = await revocations(t.app, all.cursor);
    expect(none).toEqual({ events: [], cursor: all.cursor });
    // No since at all is the same as since=0.
    const res = await t.app.inject({ method: 'GET', url: '/v1/revocations', headers: feedAuth() });
    expect(json(res)).toEqual(all);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('pages with limit', async () => {
    const all = await revocations(t.app, '0');
    const res = json<{ events: Event[]; cursor: string }>(
      await t.app.inject({ method: 'GET', url: '/v1/revocations?since=0&limit=2', headers: feedAuth() }),
    );
    expect(res.events).toEqual(all.events.slice(0, 2));
    expect(res.cursor).toBe(all.events[1]?.cursor);
  });

  it('refuses a bad cursor or limit with 400', async () => {
    for (const q of [
      'since=abc',
      'since=-1',
      'since=1.5',
      'since=%00',
      `since=${'9'.repeat(65)}`,
      'since=1e3',
      'since=01',
      'limit=abc',
      'limit=-1',
      'since=0&since=1',
    ]) {
      expectError(await t.app.inject({ method: 'GET', url: `/v1/revocations?${q}`, headers: feedAuth() }), 400, 'invalid_request');
    }
  });

  it('forgets events once every token they could affect has expired', async () => {
    const k = await tokenLogin(t.app, user);
    await t.app.inject({ method: 'POST', url: '/v1/logout', headers: bearer(k.access_token) });
    expect((await revocations(t.app, '0')).events.length).toBeGreaterThan(0);
    // Still kept while the token could be valid somewhere (lifetime + leeway).
    t.clock.advance((600 + 30) * 1000);
    await cleanUp(t.app.tessera);
    expect((await revocations(t.app, '0')).events.map((e) => e.sid)).toContain(sidOf(k.access_token));
    t.clock.advance(3_000);
    await cleanUp(t.app.tessera);
    expect((await revocations(t.app, '0')).events).toEqual([]);
    // The expired token stays refused (by expiry now), and the dead session stays dead.
    expectError(await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(k.access_token) }), 401, 'invalid_token');
    expectError(await refreshGrant(t.app, k.refresh_token), 400, 'invalid_grant');
  });
});
