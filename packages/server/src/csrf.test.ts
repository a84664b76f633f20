import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import {
  bearer,
  type CookieSession,
  cookieLogin,
  expectError,
  ISSUER,
  me,
  passwordGrant,
  type Registered,
  register,
  sessionLogin,
  tokenLogin,
  uniqueEmail,
} from './test-helpers.js';

const APP_ORIGIN = 'https://app.example';
const EVIL = 'https://evil.example';

/**
 * CSRF for cookie-authenticated state changes (DESIGN "HTTP contract"): Origin / Sec-Fetch-Site
 * verification, with the double-submit token for clients that send neither.
 */
describe('CSRF', () => {
  let t: TestApp;
  let user: Registered;
  beforeAll(async () => {
    t = await createTestApp({ TESSERA_CORS_ORIGINS: APP_ORIGIN });
    user = await register(t.app);
  });

  /** A state change that leaves the session alive when it passes: deleting a session id that does not exist (404). */
  const harmless = (s: CookieSession, headers: Record<string, string>) =>
    t.app.inject({ method: 'DELETE', url: `/v1/sessions/${'Z'.repeat(22)}`, headers: { ...s.cookie, ...headers } });
  /** A state change whose success is visible: logging this session out. */
  const logout = (s: CookieSession, headers: Record<string, string>) =>
    t.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { ...s.cookie, ...headers } });

  it('refuses a foreign Origin with 403, and the session survives the attempt', async () => {
    const s = await cookieLogin(t.app, user);
    for (const origin of [EVIL, 'null', `${ISSUER}.evil.example`, 'http://auth.test:8080', 'https://auth.test', ISSUER.toUpperCase()]) {
      expectError(await logout(s, { origin }), 403, 'invalid_origin');
      // Even with the right CSRF token: a browser said the request came from elsewhere.
      expectError(await logout(s, { origin, 'x-csrf-token': s.csrf }), 403);
    }
    const password = await t.app.inject({
      method: 'POST',
      url: '/v1/me/password',
      headers: { ...s.cookie, origin: EVIL },
      payload: { current_password: user.password, new_password: 'hijacked passphrase!!' },
    });
    expectError(password, 403);
    expectError(await t.app.inject({ method: 'DELETE', url: '/v1/sessions', headers: { ...s.cookie, origin: EVIL } }), 403);
    expect((await me(t.app, s.cookie)).statusCode).toBe(200);
  });

  it('refuses Sec-Fetch-Site: cross-site, and same-site from an unlisted origin', async () => {
    const s = await cookieLogin(t.app, user);
    expectError(await logout(s, { 'sec-fetch-site': 'cross-site' }), 403, 'invalid_origin');
    expectError(await logout(s, { 'sec-fetch-site': 'same-site' }), 403, 'invalid_origin');
    expectError(await logout(s, { 'sec-fetch-site': 'same-site', origin: 'http://sub.auth.test' }), 403, 'invalid_origin');
    expectError(await logout(s, { 'sec-fetch-site': 'cross-site', 'x-csrf-token': s.csrf }), 403);
    // Our own origin cannot be cross-site: the two headers contradict each other.
    expectError(await logout(s, { 'sec-fetch-site': 'cross-site', origin: ISSUER }), 403, 'invalid_origin');
    expect((await me(t.app, s.cookie)).statusCode).toBe(200);
  });

  it("passes the issuer's own origin and a TESSERA_CORS_ORIGINS origin without a token", async () => {
    const s = await cookieLogin(t.app, user);
    expectError(await harmless(s, { origin: ISSUER }), 404);
    expectError(await harmless(s, { origin: APP_ORIGIN, 'sec-fetch-site': 'cross-site' }), 404);
    expectError(await harmless(s, { 'sec-fetch-site': 'same-origin' }), 404);
    expect((await logout(s, { origin: APP_ORIGIN })).statusCode).toBe(204);
    expectError(await me(t.app, s.cookie), 401);
  });

  it('requires X-CSRF-Token equal to csrf_token when neither header is sent', async () => {
    const s = await cookieLogin(t.app, user);
    const other = await cookieLogin(t.app, user);
    expectError(await logout(s, {}), 403, 'csrf_token_invalid');
    expectError(await logout(s, { 'x-csrf-token': '' }), 403, 'csrf_token_invalid');
    expectError(await logout(s, { 'x-csrf-token': 'wrong' }), 403, 'csrf_token_invalid');
    expectError(await logout(s, { 'x-csrf-token': s.csrf.slice(0, -1) }), 403, 'csrf_token_invalid');
    // Another session's token does not do.
    expectError(await logout(s, { 'x-csrf-token': other.csrf }), 403, 'csrf_token_invalid');
    expect((await me(t.app, s.cookie)).statusCode).toBe(200);
    expect((await logout(s, { 'x-csrf-token': s.csrf })).statusCode).toBe(204);
    expectError(await me(t.app, s.cookie), 401);
  });

  it('never blocks GET, whatever the headers say', async () => {
    const s = await cookieLogin(t.app, user);
    expect((await me(t.app, { ...s.cookie, origin: EVIL, 'sec-fetch-site': 'cross-site' })).statusCode).toBe(200);
    const list = await t.app.inject({ method: 'GET', url: '/v1/sessions', headers: { ...s.cookie, origin: EVIL } });
    expect(list.statusCode).toBe(200);
  });

  it('does not apply to Bearer-authenticated requests', async () => {
    const tokens = await tokenLogin(t.app, user);
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${'Z'.repeat(22)}`,
      headers: { ...bearer(tokens.access_token), origin: EVIL, 'sec-fetch-site': 'cross-site' },
    });
    expectError(res, 404);
    const out = await t.app.inject({
      method: 'DELETE',
      url: '/v1/sessions/current',
      headers: { ...bearer(tokens.access_token), origin: EVIL },
    });
    expect(out.statusCode).toBe(204);
  });

  describe('login CSRF: credentials need no token, but a cross-site login is refused', () => {
    it('refuses cookie and token logins (and sign-up) from a foreign Origin or Sec-Fetch-Site: cross-site', async () => {
      for (const headers of [{ origin: EVIL }, { 'sec-fetch-site': 'cross-site' }, { origin: 'null' }] as Record<string, string>[]) {
        expectError(await sessionLogin(t.app, user.email, user.password, { headers }), 403, 'invalid_origin');
        expectError(await passwordGrant(t.app, user.email, user.password, { headers }), 403, 'invalid_origin');
        const signUp = await t.app.inject({
          method: 'POST',
          url: '/v1/users',
          headers,
          payload: { email: uniqueEmail(), password: 'correct horse battery staple' },
        });
        expectError(signUp, 403, 'invalid_origin');
      }
    });

    it('accepts logins from the own origin, a listed origin, same-origin fetches and non-browser clients', async () => {
      for (const headers of [{ origin: ISSUER }, { origin: APP_ORIGIN }, { 'sec-fetch-site': 'same-origin' }, {}] as Record<
        string,
        string
      >[]) {
        expect((await sessionLogin(t.app, user.email, user.password, { headers })).statusCode).toBe(201);
      }
      expect((await passwordGrant(t.app, user.email, user.password, { headers: { origin: APP_ORIGIN } })).statusCode).toBe(200);
    });

    it('refuses the login before checking credentials: a refused attempt is not a throttled failure', async () => {
      const email = uniqueEmail('victim');
      for (let i = 0; i < 10; i++) {
        expectError(await passwordGrant(t.app, email, 'wrong wrong wrong', { headers: { origin: EVIL } }), 403);
      }
      expect(await t.stores.rateLimits.get(`login:acct:${email}`, t.clock.now)).toBeNull();
    });
  });

  it('answers CORS preflight for a listed origin, with credentials, and not for others', async () => {
    const ok = await t.app.inject({
      method: 'OPTIONS',
      url: '/v1/sessions',
      headers: {
        origin: APP_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-csrf-token',
      },
    });
    expect(ok.statusCode).toBeLessThan(300);
    expect(ok.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(ok.headers['access-control-allow-credentials']).toBe('true');
    const evil = await t.app.inject({
      method: 'OPTIONS',
      url: '/v1/sessions',
      headers: { origin: EVIL, 'access-control-request-method': 'POST' },
    });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });
});
