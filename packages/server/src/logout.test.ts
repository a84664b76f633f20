import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import { bearer, expectError, expectInvalidToken, me, type Registered, refreshGrant, register, tokenLogin } from './test-helpers.js';

describe('POST /v1/logout', () => {
  let t: TestApp;
  let user: Registered;
  beforeAll(async () => {
    t = await createTestApp();
    user = await register(t.app);
  });

  const logout = (headers: Record<string, string>, payload?: object) =>
    t.app.inject({ method: 'POST', url: '/v1/logout', headers, ...(payload ? { payload } : {}) });

  it('with a Bearer access token: 204, /v1/me refuses the token at once and the refresh token is dead', async () => {
    const tokens = await tokenLogin(t.app, user);
    const other = await tokenLogin(t.app, user);
    const res = await logout(bearer(tokens.access_token));
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expectInvalidToken(await me(t.app, bearer(tokens.access_token)));
    expectError(await refreshGrant(t.app, tokens.refresh_token), 400, 'invalid_grant');
    // Only that session.
    expect((await me(t.app, bearer(other.access_token))).statusCode).toBe(200);
  });

  it('with refresh_token in the body (JSON or form): 204, and the session ends', async () => {
    const a = await tokenLogin(t.app, user);
    expect((await logout({}, { refresh_token: a.refresh_token })).statusCode).toBe(204);
    expectError(await refreshGrant(t.app, a.refresh_token), 400, 'invalid_grant');
    expectInvalidToken(await me(t.app, bearer(a.access_token)));

    const b = await tokenLogin(t.app, user);
    const form = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `refresh_token=${encodeURIComponent(b.refresh_token)}`,
    });
    expect(form.statusCode).toBe(204);
    expectError(await refreshGrant(t.app, b.refresh_token), 400, 'invalid_grant');
  });

  it('answers an unknown or already-used refresh token with 204 too (nothing left to log out)', async () => {
    expect((await logout({}, { refresh_token: `rt_${'A'.repeat(65)}` })).statusCode).toBe(204);
    expect((await logout({}, { refresh_token: 'garbage' })).statusCode).toBe(204);
  });

  it('answers nothing at all with 400 invalid_request', async () => {
    expectError(await logout({}), 400, 'invalid_request');
    expectError(await logout({}, {}), 400, 'invalid_request');
    expectError(await logout({ 'content-type': 'application/json' }, undefined), 400);
  });

  it('answers an invalid Bearer token with 401 invalid_token and revokes nothing', async () => {
    const tokens = await tokenLogin(t.app, user);
    const res = await logout(bearer(`${tokens.access_token}x`));
    expectInvalidToken(res);
    expect((await me(t.app, bearer(tokens.access_token))).statusCode).toBe(200);
  });
});
