import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import {
  cookieLogin,
  decodePayload,
  expectError,
  json,
  me,
  type Registered,
  register,
  sessionLogin,
  setCookies,
  uniqueEmail,
} from './test-helpers.js';

describe('POST /v1/sessions (cookie login)', () => {
  let t: TestApp;
  let user: Registered;
  beforeAll(async () => {
    t = await createTestApp();
    user = await register(t.app, uniqueEmail(), undefined, 'Grace');
  });

  it('answers 201 with { user, csrf_token } and an HttpOnly, SameSite=Lax, Path=/ cookie holding sid.secret', async () => {
    const res = await sessionLogin(t.app, user.email, user.password);
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = json<{ user: Record<string, unknown>; csrf_token: string }>(res);
    expect(Object.keys(body).sort()).toEqual(['csrf_token', 'user']);
    expect(body.user).toMatchObject({ id: user.id, email: user.email, name: 'Grace' });
    expect(body.user).not.toHaveProperty('passwordHash');
    expect(body.csrf_token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const [line, ...others] = setCookies(res);
    expect(others).toEqual([]);
    const parts = (line as string).split(/;\s*/);
    expect(parts[0]).toMatch(/^tessera_session=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(parts).toContain('HttpOnly');
    expect(parts).toContain('SameSite=Lax');
    expect(parts).toContain('Path=/');
    expect(parts.some((p) => /^Domain=/i.test(p))).toBe(false);
    expect(parts).not.toContain('Secure'); // http issuer: a Secure cookie would never come back

    // The store keeps only the hash of the secret, and no CSRF token (it is derived).
    const [sid, secret] = (parts[0] as string).slice('tessera_session='.length).split('.');
    const stored = await t.stores.sessions.get(sid as string);
    expect(stored).toMatchObject({ kind: 'cookie', userId: user.id, csrfToken: null });
    expect(stored?.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(JSON.stringify(stored)).not.toContain(body.csrf_token);
  });

  it('authenticates GET /v1/me from the store with auth "session"', async () => {
    const s = await cookieLogin(t.app, user);
    const res = await me(t.app, s.cookie);
    expect(res.statusCode).toBe(200);
    expect(json(res)).toEqual({ sub: user.id, id: user.id, email: user.email, name: 'Grace', roles: [], auth: 'session', sid: s.sid });
  });

  it('answers a wrong password and an unknown user alike: 401 invalid_credentials, identical bodies, no cookie', async () => {
    const wrong = await sessionLogin(t.app, user.email, 'wrong wrong wrong wrong', { remoteAddress: '10.2.0.1' });
    const unknown = await sessionLogin(t.app, uniqueEmail('ghost'), 'wrong wrong wrong wrong', { remoteAddress: '10.2.0.2' });
    expectError(wrong, 401, 'invalid_credentials');
    expectError(unknown, 401, 'invalid_credentials');
    expect(unknown.body).toBe(wrong.body);
    // Every 401 carries a challenge (RFC 7235 §3.1, DESIGN "Errors everywhere").
    expect(wrong.headers['www-authenticate']).toBe('Bearer');
    expect(unknown.headers['www-authenticate']).toBe(wrong.headers['www-authenticate']);
    expect(setCookies(wrong)).toEqual([]);
    expect(setCookies(unknown)).toEqual([]);
  });

  it('issues a fresh session id at every login, even when an old cookie is sent along (no fixation)', async () => {
    const a = await cookieLogin(t.app, user);
    const b = await cookieLogin(t.app, user, { headers: a.cookie });
    expect(b.sid).not.toBe(a.sid);
    expect(b.value).not.toBe(a.value);
    expect(b.csrf).not.toBe(a.csrf);
  });

  it('refuses cookies it did not issue: forged secret, unknown sid, malformed values', async () => {
    const s = await cookieLogin(t.app, user);
    const forged = `${s.sid}.${'A'.repeat(43)}`;
    for (const value of [forged, `${'B'.repeat(22)}.${s.value.slice(23)}`, 'garbage', `${s.value}x`, `${s.sid}`]) {
      const res = await me(t.app, { cookie: `tessera_session=${value}` });
      expectError(res, 401, 'invalid_session');
      expect(res.headers['www-authenticate']).toBe('Bearer');
      // The dead cookie is cleared.
      expect(setCookies(res).join()).toMatch(/tessera_session=;.*Max-Age=0/);
    }
    expect((await me(t.app, s.cookie)).statusCode).toBe(200);
  });

  it('does not accept a token session id as a cookie', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/token',
      payload: { grant_type: 'password', username: user.email, password: user.password },
    });
    const sid = decodePayload(json<{ access_token: string }>(res).access_token).sid as string;
    expectError(await me(t.app, { cookie: `tessera_session=${sid}.${'A'.repeat(43)}` }), 401);
  });
});

describe('cookie session lifetime', () => {
  let t: TestApp;
  let user: Registered;
  beforeAll(async () => {
    t = await createTestApp({ TESSERA_SESSION_IDLE_TTL: '600', TESSERA_SESSION_ABSOLUTE_TTL: '3600' });
    user = await register(t.app);
  });

  it('ends after the idle timeout without activity', async () => {
    const s = await cookieLogin(t.app, user);
    t.clock.advance(599_000);
    expect((await me(t.app, s.cookie)).statusCode).toBe(200);
    const s2 = await cookieLogin(t.app, user);
    t.clock.advance(600_000);
    expectError(await me(t.app, s2.cookie), 401, 'invalid_session');
  });

  it('slides the idle expiry with activity, writing lastSeenAt at most once a minute', async () => {
    const s = await cookieLogin(t.app, user);
    const created = (await t.stores.sessions.get(s.sid))!;
    expect(created.lastSeenAt).toBe(t.clock.now);

    // Within the first minute: no write.
    t.clock.advance(30_000);
    expect((await me(t.app, s.cookie)).statusCode).toBe(200);
    t.clock.advance(29_999);
    expect((await me(t.app, s.cookie)).statusCode).toBe(200);
    expect((await t.stores.sessions.get(s.sid))!.lastSeenAt).toBe(created.lastSeenAt);

    // A minute after the last write: one write, sliding the idle expiry.
    t.clock.advance(1);
    expect((await me(t.app, s.cookie)).statusCode).toBe(200);
    const touched = (await t.stores.sessions.get(s.sid))!;
    expect(touched.lastSeenAt).toBe(t.clock.now);
    expect(touched.idleExpiresAt).toBe(t.clock.now + 600_000);

    // Count writes over 10 requests within the next minute: none.
    const touch = t.stores.sessions.touch.bind(t.stores.sessions);
    let writes = 0;
    t.stores.sessions.touch = async (...args) => {
      writes++;
      return touch(...args);
    };
    try {
      for (let i = 0; i < 10; i++) {
        t.clock.advance(5_000);
        expect((await me(t.app, s.cookie)).statusCode).toBe(200);
      }
      expect(writes).toBe(0);
      t.clock.advance(10_000);
      await me(t.app, s.cookie);
      expect(writes).toBe(1);
    } finally {
      t.stores.sessions.touch = touch;
    }

    // Activity every 5 minutes keeps it alive well past the 10-minute idle timeout.
    for (let i = 0; i < 6; i++) {
      t.clock.advance(300_000);
      expect((await me(t.app, s.cookie)).statusCode).toBe(200);
    }
  });

  it('ends at the absolute timeout even with steady activity', async () => {
    const s = await cookieLogin(t.app, user);
    const start = t.clock.now;
    while (t.clock.now + 300_000 < start + 3_600_000) {
      t.clock.advance(300_000);
      expect((await me(t.app, s.cookie)).statusCode).toBe(200);
    }
    t.clock.now = start + 3_600_000;
    expectError(await me(t.app, s.cookie), 401, 'invalid_session');
  });

  it('sets the cookie Max-Age to the absolute lifetime', async () => {
    const s = await cookieLogin(t.app, user);
    expect(s.setCookie).toContain('Max-Age=3600');
  });
});

describe('cookie over https', () => {
  it('uses the __Host- prefix and Secure when the issuer is https', async () => {
    const t = await createTestApp({ TESSERA_ISSUER: 'https://auth.example' });
    const user = await register(t.app, uniqueEmail(), undefined);
    const s = await cookieLogin(t.app, user, { headers: { origin: 'https://auth.example' } });
    expect(s.name).toBe('__Host-tessera_session');
    const parts = s.setCookie.split(/;\s*/);
    expect(parts).toEqual(expect.arrayContaining(['Secure', 'HttpOnly', 'SameSite=Lax', 'Path=/']));
    expect(parts.some((p) => /^Domain=/i.test(p))).toBe(false);
    expect((await me(t.app, s.cookie)).statusCode).toBe(200);
    // The unprefixed name is not read.
    expectError(await me(t.app, { cookie: `tessera_session=${s.value}` }), 401);
    // Logout clears the prefixed cookie, with the attributes a browser needs to accept the clearing.
    const out = await t.app.inject({
      method: 'DELETE',
      url: '/v1/sessions/current',
      headers: { ...s.cookie, origin: 'https://auth.example' },
    });
    expect(out.statusCode).toBe(204);
    const cleared = setCookies(out).join();
    expect(cleared).toMatch(/^__Host-tessera_session=;/);
    expect(cleared).toContain('Secure');
    // So is a dead one: a __Host- cookie cleared without Secure would be ignored by the browser.
    const dead = await me(t.app, s.cookie);
    expectError(dead, 401, 'invalid_session');
    const deadClear = setCookies(dead).join();
    expect(deadClear).toMatch(/^__Host-tessera_session=;/);
    expect(deadClear.split(/;\s*/)).toEqual(expect.arrayContaining(['Secure', 'Path=/', 'Max-Age=0']));
  });
});
