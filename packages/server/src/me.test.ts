import { Buffer } from 'node:buffer';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import {
  bearer,
  cookieLogin,
  decodePayload,
  expectError,
  expectInvalidToken,
  json,
  me,
  OTHER_PASSWORD,
  passwordGrant,
  type Registered,
  refreshGrant,
  register,
  tokenLogin,
  uniqueEmail,
} from './test-helpers.js';

describe('GET /v1/me', () => {
  let t: TestApp;
  let user: Registered;
  beforeAll(async () => {
    t = await createTestApp();
    user = await register(t.app);
  });

  /** Counts reads of the session and user stores while `fn` runs. */
  async function storeReads(fn: () => Promise<void>): Promise<number> {
    const { sessions, users } = t.stores;
    const get = sessions.get;
    const getWithUser = sessions.getWithUser;
    const findById = users.findById;
    let reads = 0;
    sessions.get = (...args) => {
      reads++;
      return get.apply(sessions, args);
    };
    sessions.getWithUser = (...args) => {
      reads++;
      return getWithUser.apply(sessions, args);
    };
    users.findById = (...args) => {
      reads++;
      return findById.apply(users, args);
    };
    try {
      await fn();
    } finally {
      sessions.get = get;
      sessions.getWithUser = getWithUser;
      users.findById = findById;
    }
    return reads;
  }

  it('answers Bearer from the token claims alone: { sub, id, email, name, auth: "jwt", sid }, no store read', async () => {
    const tokens = await tokenLogin(t.app, user);
    let body: unknown;
    const reads = await storeReads(async () => {
      const res = await me(t.app, bearer(tokens.access_token));
      expect(res.statusCode).toBe(200);
      body = json(res);
      // A repeat (cache hit) is no different.
      expect((await me(t.app, bearer(tokens.access_token))).statusCode).toBe(200);
    });
    expect(reads).toBe(0);
    expect(body).toEqual({
      sub: user.id,
      id: user.id,
      email: user.email,
      name: null,
      roles: [],
      auth: 'jwt',
      sid: decodePayload(tokens.access_token).sid,
    });
  });

  it('includes the name for Bearer only when the token carries it', async () => {
    const named = await register(t.app, uniqueEmail(), undefined, 'Katherine');
    const tokens = await tokenLogin(t.app, named);
    expect(json(await me(t.app, bearer(tokens.access_token)))).toMatchObject({ name: 'Katherine', auth: 'jwt' });
  });

  it('answers a cookie from the session store with auth "session"', async () => {
    const s = await cookieLogin(t.app, user);
    let body: unknown;
    const reads = await storeReads(async () => {
      body = json(await me(t.app, s.cookie));
    });
    expect(reads).toBeGreaterThanOrEqual(1);
    expect(body).toEqual({ sub: user.id, id: user.id, email: user.email, name: null, roles: [], auth: 'session', sid: s.sid });
  });

  // Userinfo clients (OIDC Core §5.3) key on `sub`, and a missing `name` read as "no such
  // member" differs from a known-empty one: both answers carry both, the same members.
  it('userinfo answers sub, and name null when unset, for Bearer and cookie alike', async () => {
    const tokens = await tokenLogin(t.app, user);
    const s = await cookieLogin(t.app, user);
    const byToken = json(await me(t.app, bearer(tokens.access_token)));
    const byCookie = json(await me(t.app, s.cookie));
    for (const body of [byToken, byCookie]) {
      expect(body.sub).toBe(user.id);
      expect(body.id).toBe(body.sub);
      expect(body).toHaveProperty('name', null);
    }
    expect(Object.keys(byToken).sort()).toEqual(Object.keys(byCookie).sort());

    const named = await register(t.app, uniqueEmail(), undefined, 'Ada');
    const namedToken = json(await me(t.app, bearer((await tokenLogin(t.app, named)).access_token)));
    const namedCookie = json(await me(t.app, (await cookieLogin(t.app, named)).cookie));
    expect(namedToken).toMatchObject({ sub: named.id, name: 'Ada' });
    expect(namedCookie).toMatchObject({ sub: named.id, name: 'Ada' });
  });

  it('answers no credentials with 401 and a bare Bearer challenge (no error= param)', async () => {
    const res = await me(t.app);
    expectError(res, 401, 'unauthorized');
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('answers another scheme like no credentials (401, bare challenge), and an empty Bearer with 400 invalid_request', async () => {
    const tokens = await tokenLogin(t.app, user);
    for (const authorization of [`Basic ${Buffer.from('a:b').toString('base64')}`, `Token ${tokens.access_token}`, tokens.access_token]) {
      const res = await me(t.app, { authorization });
      expectError(res, 401, 'unauthorized');
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body).not.toContain(tokens.access_token);
    }
    for (const authorization of ['Bearer', 'Bearer ', 'Bearer    ', `Bearer ${tokens.access_token}, Bearer ${tokens.access_token}`]) {
      const res = await me(t.app, { authorization });
      expectError(res, 400, 'invalid_request');
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_request"');
      expect(res.body).not.toContain(tokens.access_token);
    }
  });

  it('accepts the scheme name in any case (RFC 7235)', async () => {
    const tokens = await tokenLogin(t.app, user);
    expect((await me(t.app, { authorization: `bearer ${tokens.access_token}` })).statusCode).toBe(200);
    expect((await me(t.app, { authorization: `BEARER ${tokens.access_token}` })).statusCode).toBe(200);
  });

  it('refuses an expired access token with invalid_token, after the lifetime plus leeway', async () => {
    const tokens = await tokenLogin(t.app, user);
    t.clock.advance((600 + 29) * 1000);
    expect((await me(t.app, bearer(tokens.access_token))).statusCode).toBe(200);
    t.clock.advance(1000);
    const res = await me(t.app, bearer(tokens.access_token));
    expectInvalidToken(res);
    expect(res.headers['www-authenticate']).toContain('expired');
  });

  it('prefers the Bearer token when both a token and a cookie are sent', async () => {
    const tokens = await tokenLogin(t.app, user);
    const s = await cookieLogin(t.app, user);
    expect(json(await me(t.app, { ...s.cookie, ...bearer(tokens.access_token) }))).toMatchObject({ auth: 'jwt' });
    expectInvalidToken(await me(t.app, { ...s.cookie, authorization: 'Bearer not.a.token' }));
  });
});

describe('POST /v1/me/password', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  const change = (headers: Record<string, string>, current_password: string, new_password: string) =>
    t.app.inject({ method: 'POST', url: '/v1/me/password', headers, payload: { current_password, new_password } });

  it('changes the password: 204, other sessions revoked, this one survives, only the new password logs in', async () => {
    const user = await register(t.app);
    const here = await tokenLogin(t.app, user);
    const otherTokens = await tokenLogin(t.app, user);
    const otherCookie = await cookieLogin(t.app, user);

    const res = await change(bearer(here.access_token), user.password, OTHER_PASSWORD);
    expect(res.statusCode).toBe(204);

    expectInvalidToken(await me(t.app, bearer(otherTokens.access_token)));
    expectError(await refreshGrant(t.app, otherTokens.refresh_token), 400, 'invalid_grant');
    expectError(await me(t.app, otherCookie.cookie), 401, 'invalid_session');

    expect((await me(t.app, bearer(here.access_token))).statusCode).toBe(200);
    expect((await refreshGrant(t.app, here.refresh_token)).statusCode).toBe(200);

    expectError(await passwordGrant(t.app, user.email, user.password), 400, 'invalid_grant');
    expect((await passwordGrant(t.app, user.email, OTHER_PASSWORD)).statusCode).toBe(200);
  });

  it('keeps the current cookie session when changed by cookie (with CSRF), and revokes the rest', async () => {
    const user = await register(t.app);
    const here = await cookieLogin(t.app, user);
    const other = await cookieLogin(t.app, user);
    expectError(await change(here.cookie, user.password, OTHER_PASSWORD), 403, 'csrf_token_invalid');
    expect((await change(here.csrfHeaders, user.password, OTHER_PASSWORD)).statusCode).toBe(204);
    expect((await me(t.app, here.cookie)).statusCode).toBe(200);
    expectError(await me(t.app, other.cookie), 401);
  });

  it('refuses a wrong current password with 400, and throttles after repeats even with the right one', async () => {
    const user = await register(t.app);
    const tokens = await tokenLogin(t.app, user);
    for (let i = 0; i < 5; i++)
      expectError(await change(bearer(tokens.access_token), 'not my password at all', OTHER_PASSWORD), 400, 'invalid_grant');
    const blocked = await change(bearer(tokens.access_token), user.password, OTHER_PASSWORD);
    expectError(blocked, 429, 'too_many_requests');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Nothing changed.
    expect((await passwordGrant(t.app, user.email, user.password)).statusCode).toBe(200);
    t.clock.advance(Number(blocked.headers['retry-after']) * 1000);
    expect((await change(bearer(tokens.access_token), user.password, OTHER_PASSWORD)).statusCode).toBe(204);
  });

  it('lets no concurrent burst of guesses past the throttle', async () => {
    const user = await register(t.app);
    const tokens = await tokenLogin(t.app, user);
    const burst = await Promise.all(
      Array.from({ length: 60 }, (_, i) => change(bearer(tokens.access_token), `wrong guess number ${i}`, OTHER_PASSWORD)),
    );
    expect(burst.filter((r) => r.statusCode === 400)).toHaveLength(5);
    expect(burst.filter((r) => r.statusCode === 429)).toHaveLength(55);
  });

  it('refuses a weak new password with 400 weak_password and keeps the old one', async () => {
    const user = await register(t.app);
    const tokens = await tokenLogin(t.app, user);
    // Six times, past the 5 free failures: a right current password is not a failure, so no 429.
    for (const weak of ['short', 'password1234', user.email, 'x'.repeat(129), 'qwerty123456', '😀'.repeat(11)]) {
      expectError(await change(bearer(tokens.access_token), user.password, weak), 400, 'weak_password');
    }
    expect((await me(t.app, bearer(tokens.access_token))).statusCode).toBe(200);
    expect((await passwordGrant(t.app, user.email, user.password)).statusCode).toBe(200);
  });

  it('requires authentication and a well-formed body', async () => {
    expectError(await change({}, 'a', 'b'), 401);
    const user = await register(t.app);
    const tokens = await tokenLogin(t.app, user);
    const extra = await t.app.inject({
      method: 'POST',
      url: '/v1/me/password',
      headers: bearer(tokens.access_token),
      payload: { current_password: user.password, new_password: OTHER_PASSWORD, email: 'x@y.z' },
    });
    expectError(extra, 400, 'invalid_request');
    expectError(
      await t.app.inject({ method: 'POST', url: '/v1/me/password', headers: bearer(tokens.access_token), payload: {} }),
      400,
      'invalid_request',
    );
  });
});
