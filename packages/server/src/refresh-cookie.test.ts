import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import { bearer, expectError, json, me, PASSWORD, type Registered, register, setCookies, type Tokens, tokenLogin } from './test-helpers.js';

/** The refresh cookie for the test issuer (`http://auth.test`: not localhost, so Secure and prefixed). */
const NAME = '__Secure-tessera_refresh';
const ORIGIN = 'https://app.example';

type Res = Awaited<ReturnType<TestApp['app']['inject']>>;

/** The refresh cookie's Set-Cookie line of a response, or undefined. */
function refreshSetCookie(res: Res): string | undefined {
  return setCookies(res).find((line) => line.startsWith(`${NAME}=`));
}

/** The refresh cookie's value as set by a response, asserting it is there. */
function cookieValue(res: Res): string {
  const line = refreshSetCookie(res);
  expect(line, 'a refresh cookie').toBeDefined();
  return decodeURIComponent(
    String(line)
      .slice(NAME.length + 1)
      .split(';')[0] ?? '',
  );
}

describe('the refresh cookie (browser clients of POST /v1/token)', () => {
  let t: TestApp;
  let user: Registered;
  beforeAll(async () => {
    t = await createTestApp({ TESSERA_REFRESH_TOKEN_TTL: '86400', TESSERA_CORS_ORIGINS: ORIGIN });
    user = await register(t.app);
  });

  const cookieLogin = () =>
    t.app.inject({
      method: 'POST',
      url: '/v1/token',
      headers: { origin: ORIGIN },
      payload: { grant_type: 'password', username: user.email, password: PASSWORD, refresh_cookie: true },
    });
  const cookieRefresh = (value: string, headers: Record<string, string> = { origin: ORIGIN }) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/token',
      headers: { ...headers, cookie: `${NAME}=${encodeURIComponent(value)}` },
      payload: { grant_type: 'refresh_token' },
    });

  it('leaves the body unchanged for non-browser clients: refresh_token in the body, no cookie', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/token',
      payload: { grant_type: 'password', username: user.email, password: PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    expect(json(res).refresh_token).toMatch(/^rt_/);
    expect(refreshSetCookie(res)).toBeUndefined();
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/v1/token',
      payload: { grant_type: 'refresh_token', refresh_token: json<Tokens>(res).refresh_token },
    });
    expect(json(refreshed).refresh_token).toMatch(/^rt_/);
    expect(refreshSetCookie(refreshed)).toBeUndefined();
  });

  it('sets the cookie HttpOnly, SameSite=Strict, Path=/v1/token, Secure, for the family lifetime, and leaves it out of the body', async () => {
    const res = await cookieLogin();
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res)).not.toHaveProperty('refresh_token');
    expect(json(res).access_token).toBeTypeOf('string');
    const line = String(refreshSetCookie(res));
    expect(line).toContain('HttpOnly');
    expect(line).toContain('SameSite=Strict');
    expect(line).toContain('Path=/v1/token');
    expect(line).toContain('Secure');
    expect(line).toContain('Max-Age=86400');
    expect(cookieValue(res)).toMatch(/^rt_/);
  });

  it('is not Secure on a plain-http localhost issuer (development without TLS), and drops the prefix', async () => {
    const local = await createTestApp({ TESSERA_ISSUER: 'http://localhost:3000' });
    const u = await register(local.app);
    const res = await local.app.inject({
      method: 'POST',
      url: '/v1/token',
      payload: `grant_type=password&username=${encodeURIComponent(u.email)}&password=${encodeURIComponent(PASSWORD)}&refresh_cookie=true`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const line = setCookies(res).find((l) => l.startsWith('tessera_refresh='));
    expect(line).toBeDefined();
    expect(line).not.toContain('Secure');
    expect(line).toContain('SameSite=Strict');
  });

  it('refreshes from the cookie when the body has none, and rotates it', async () => {
    const first = cookieValue(await cookieLogin());
    t.clock.advance(1_000);
    const res = await cookieRefresh(first);
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res)).not.toHaveProperty('refresh_token');
    const second = cookieValue(res);
    expect(second).not.toBe(first);
    // The family's remaining lifetime, not a fresh one.
    expect(String(refreshSetCookie(res))).toContain('Max-Age=86399');
    expect(json(await me(t.app, bearer(json<Tokens>(res).access_token)))).toMatchObject({ id: user.id });
    const third = await cookieRefresh(second);
    expect(cookieValue(third)).not.toBe(second);
  });

  // RFC 9700 §4.14.2: a stolen, already rotated refresh cookie replayed after the grace window.
  it('revokes the family when an old cookie is reused, and clears the cookie', async () => {
    const first = cookieValue(await cookieLogin());
    const rotated = await cookieRefresh(first);
    const access = json<Tokens>(rotated).access_token;
    t.clock.advance(60_000);
    const reuse = await cookieRefresh(first);
    expectError(reuse, 400, 'invalid_grant');
    expect(String(refreshSetCookie(reuse))).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/);
    // The family is gone: the live successor is refused too, and so is its access token.
    expectError(await cookieRefresh(cookieValue(rotated)), 400, 'invalid_grant');
    expect((await me(t.app, bearer(access))).statusCode).toBe(401);
  });

  // Login CSRF's cousin: a page on another site cannot spend (rotate) the user's refresh cookie.
  it('refuses a cookie-held refresh from a cross-site Origin, and leaves the cookie usable', async () => {
    const value = cookieValue(await cookieLogin());
    expectError(await cookieRefresh(value, { origin: 'https://evil.example' }), 403, 'invalid_origin');
    expectError(await cookieRefresh(value, { 'sec-fetch-site': 'cross-site' }), 403, 'invalid_origin');
    expect((await cookieRefresh(value)).statusCode).toBe(200);
  });

  it('answers invalid_request when neither the body nor the cookie carries a refresh token', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/token', payload: { grant_type: 'refresh_token' } });
    expectError(res, 400, 'invalid_request');
  });

  it('logout clears the cookie (with the attributes it was set with) and ends the family', async () => {
    const login = await cookieLogin();
    const value = cookieValue(login);
    const out = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { ...bearer(json<Tokens>(login).access_token), origin: ORIGIN },
    });
    expect(out.statusCode).toBe(204);
    const line = String(refreshSetCookie(out));
    expect(line).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/);
    expect(line).toContain('Path=/v1/token');
    expect(line).toContain('Secure');
    expectError(await cookieRefresh(value), 400, 'invalid_grant');
  });

  it('a refused logout leaves the cookie alone', async () => {
    const out = await t.app.inject({ method: 'POST', url: '/v1/logout', headers: bearer('not-a-token') });
    expect(out.statusCode).toBe(401);
    expect(refreshSetCookie(out)).toBeUndefined();
  });

  it('a token login without the cookie still works with the body token helpers', async () => {
    const tokens = await tokenLogin(t.app, user);
    expect(tokens.refresh_token).toMatch(/^rt_/);
  });
});
