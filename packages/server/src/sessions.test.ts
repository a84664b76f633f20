import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import {
  bearer,
  cookieLogin,
  decodePayload,
  expectError,
  expectInvalidToken,
  FEED_ENV,
  feedAuth,
  json,
  me,
  type Registered,
  refreshGrant,
  register,
  setCookies,
  tokenLogin,
} from './test-helpers.js';

interface SessionView {
  id: string;
  kind: 'cookie' | 'token';
  current: boolean;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  user_agent: string | null;
  ip: string | null;
}

describe('/v1/sessions', () => {
  let t: TestApp;
  let alice: Registered;
  let bob: Registered;
  beforeAll(async () => {
    t = await createTestApp(FEED_ENV);
    alice = await register(t.app);
    bob = await register(t.app);
  });

  /** A fresh user with two token sessions and two cookie sessions, and a session of bob's. */
  const fourSessionsAndBob = async () => {
    const user = await register(t.app);
    return {
      user,
      tokensA: await tokenLogin(t.app, user),
      tokensB: await tokenLogin(t.app, user),
      cookieA: await cookieLogin(t.app, user),
      cookieB: await cookieLogin(t.app, user),
      bobs: await tokenLogin(t.app, bob),
    };
  };

  const list = async (headers: Record<string, string>) => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/sessions', headers });
    expect(res.statusCode, res.body).toBe(200);
    return json<{ sessions: SessionView[] }>(res).sessions;
  };

  it('lists both kinds of session of the user, the current one marked, for cookie and for Bearer', async () => {
    const user = await register(t.app);
    const tokens = await tokenLogin(t.app, user);
    t.clock.advance(1000);
    const cookie = await cookieLogin(t.app, user, { headers: { 'user-agent': 'TestBrowser/1.0' }, remoteAddress: '192.0.2.44' });
    const sid = decodePayload(tokens.access_token).sid as string;
    // Another user's sessions never show.
    await tokenLogin(t.app, bob);

    const byCookie = await list(cookie.cookie);
    expect(byCookie.map((s) => [s.id, s.kind, s.current])).toEqual([
      [cookie.sid, 'cookie', true],
      [sid, 'token', false],
    ]);
    const c = byCookie[0] as SessionView;
    expect(c).toMatchObject({ user_agent: 'TestBrowser/1.0', ip: '192.0.2.44', created_at: new Date(t.clock.now).toISOString() });
    expect(Object.keys(c).sort()).toEqual(['created_at', 'current', 'expires_at', 'id', 'ip', 'kind', 'last_seen_at', 'user_agent']);
    // Nothing secret in the listing.
    const raw = JSON.stringify(byCookie);
    expect(raw).not.toContain(cookie.value.split('.')[1]);
    expect(raw).not.toContain(cookie.csrf);

    const byBearer = await list(bearer(tokens.access_token));
    expect(byBearer.map((s) => [s.id, s.current])).toEqual([
      [cookie.sid, false],
      [sid, true],
    ]);
  });

  it('requires authentication', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/sessions' });
    expectError(res, 401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('DELETE /v1/sessions/{sid} logs out my other device: 204, its refresh token and access token then fail', async () => {
    const phone = await tokenLogin(t.app, alice);
    const laptop = await cookieLogin(t.app, alice);
    const sid = decodePayload(phone.access_token).sid as string;
    const res = await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${sid}`, headers: laptop.csrfHeaders });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    // Deleting another session does not clear my own cookie.
    expect(setCookies(res)).toEqual([]);
    expectError(await refreshGrant(t.app, phone.refresh_token), 400, 'invalid_grant');
    expectInvalidToken(await me(t.app, bearer(phone.access_token)));
    expect((await me(t.app, laptop.cookie)).statusCode).toBe(200);
    expect((await list(laptop.cookie)).map((s) => s.id)).not.toContain(sid);
  });

  it("answers 404 for another user's session and leaves it alone", async () => {
    const bobs = await cookieLogin(t.app, bob);
    const mine = await tokenLogin(t.app, alice);
    const res = await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${bobs.sid}`, headers: bearer(mine.access_token) });
    expectError(res, 404, 'not_found');
    // Indistinguishable from a session that does not exist.
    const missing = await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${'Q'.repeat(22)}`, headers: bearer(mine.access_token) });
    expect(missing.body).toBe(res.body);
    expect((await me(t.app, bobs.cookie)).statusCode).toBe(200);
  });

  it('DELETE /v1/sessions/current by cookie: 204, the cookie is cleared and the session is dead', async () => {
    const s = await cookieLogin(t.app, alice);
    const res = await t.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: s.csrfHeaders });
    expect(res.statusCode).toBe(204);
    const [cleared] = setCookies(res);
    expect(cleared).toMatch(/^tessera_session=;/);
    expect(cleared).toContain('Max-Age=0');
    expect(cleared).toContain('Path=/');
    expectError(await me(t.app, s.cookie), 401, 'invalid_session');
  });

  it('DELETE /v1/sessions/current by Bearer ends that token session only', async () => {
    const a = await tokenLogin(t.app, alice);
    const b = await tokenLogin(t.app, alice);
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: bearer(a.access_token) })).statusCode).toBe(204);
    expectInvalidToken(await me(t.app, bearer(a.access_token)));
    expectError(await refreshGrant(t.app, a.refresh_token), 400, 'invalid_grant');
    expect((await me(t.app, bearer(b.access_token))).statusCode).toBe(200);
  });

  it('DELETE /v1/sessions logs out everywhere: both kinds, Bearer tokens refused at once, other users untouched', async () => {
    const { user, tokensA, tokensB, cookieA, cookieB, bobs } = await fourSessionsAndBob();

    const res = await t.app.inject({ method: 'DELETE', url: '/v1/sessions', headers: cookieA.csrfHeaders });
    expect(res.statusCode).toBe(204);
    expect(setCookies(res).join()).toMatch(/^tessera_session=;/);

    for (const tokens of [tokensA, tokensB]) {
      expectInvalidToken(await me(t.app, bearer(tokens.access_token)));
      expectError(await refreshGrant(t.app, tokens.refresh_token), 400, 'invalid_grant');
    }
    for (const cookie of [cookieA, cookieB]) expectError(await me(t.app, cookie.cookie), 401, 'invalid_session');
    expect(await t.stores.sessions.listActive(user.id, t.clock.now)).toEqual([]);
    expect((await me(t.app, bearer(bobs.access_token))).statusCode).toBe(200);
    // A new login after logging out everywhere works.
    expect((await me(t.app, bearer((await tokenLogin(t.app, user)).access_token))).statusCode).toBe(200);
  });

  it('DELETE /v1/sessions/others logs out every other session of mine, by cookie or by Bearer, and keeps this one', async () => {
    const { user, tokensA, tokensB, cookieA, cookieB, bobs } = await fourSessionsAndBob();

    // By cookie: a state change, so the CSRF check applies.
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/sessions/others', headers: cookieA.cookie })).statusCode).toBe(403);
    expect((await me(t.app, bearer(tokensA.access_token))).statusCode).toBe(200);
    const res = await t.app.inject({ method: 'DELETE', url: '/v1/sessions/others', headers: cookieA.csrfHeaders });
    expect(res.statusCode).toBe(204);
    expect(setCookies(res)).toEqual([]);
    expect((await me(t.app, cookieA.cookie)).statusCode).toBe(200);
    expectError(await me(t.app, cookieB.cookie), 401, 'invalid_session');
    for (const tokens of [tokensA, tokensB]) {
      expectInvalidToken(await me(t.app, bearer(tokens.access_token)));
      expectError(await refreshGrant(t.app, tokens.refresh_token), 400, 'invalid_grant');
    }
    expect((await t.stores.sessions.listActive(user.id, t.clock.now)).map((s) => s.id)).toEqual([cookieA.sid]);
    expect((await me(t.app, bearer(bobs.access_token))).statusCode).toBe(200);

    // By Bearer: the token's own session (and its refresh family) stays.
    const tokensC = await tokenLogin(t.app, user);
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/sessions/others', headers: bearer(tokensC.access_token) })).statusCode).toBe(
      204,
    );
    expectError(await me(t.app, cookieA.cookie), 401, 'invalid_session');
    expect((await me(t.app, bearer(tokensC.access_token))).statusCode).toBe(200);
    expect((await refreshGrant(t.app, tokensC.refresh_token)).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/sessions/others' })).statusCode).toBe(401);
    // Each revocation was written as an event.
    const events = json<{ events: { sid: string | null }[] }>(
      await t.app.inject({ method: 'GET', url: '/v1/revocations?since=0', headers: feedAuth() }),
    ).events;
    for (const sid of [cookieB.sid, cookieA.sid, decodePayload(tokensA.access_token).sid]) {
      expect(events.some((e) => e.sid === sid)).toBe(true);
    }
  });

  it('DELETE /v1/sessions by Bearer revokes the calling session too', async () => {
    const user = await register(t.app);
    const tokens = await tokenLogin(t.app, user);
    const cookie = await cookieLogin(t.app, user);
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/sessions', headers: bearer(tokens.access_token) })).statusCode).toBe(204);
    expectInvalidToken(await me(t.app, bearer(tokens.access_token)));
    expectError(await me(t.app, cookie.cookie), 401);
  });

  it('refuses an over-long session id parameter with 400, and an unknown well-formed one with 404', async () => {
    const tokens = await tokenLogin(t.app, alice);
    expectError(await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${'x'.repeat(65)}`, headers: bearer(tokens.access_token) }), 400);
    expectError(await t.app.inject({ method: 'DELETE', url: '/v1/sessions/%00', headers: bearer(tokens.access_token) }), 404);
  });

  // Routing failures used to answer Fastify's own `{ error, code, message, statusCode }` body.
  it('answers routing failures in the error shape: over-long parameter (414), broken percent-encoding (400)', async () => {
    const tokens = await tokenLogin(t.app, alice);
    expectError(
      await t.app.inject({ method: 'DELETE', url: `/v1/sessions/${'x'.repeat(300)}`, headers: bearer(tokens.access_token) }),
      414,
      'invalid_request',
    );
    expectError(
      await t.app.inject({ method: 'DELETE', url: '/v1/sessions/%E0%A4%A', headers: bearer(tokens.access_token) }),
      400,
      'invalid_request',
    );
    expectError(await t.app.inject({ method: 'DELETE', url: '/v1/sessions/%zz' }), 400, 'invalid_request');
  });
});
