/**
 * The HTTP contract as clients meet it: one name for one thing (email/username, one user
 * shape), 405 for a known path asked with the wrong method, the CSRF token readable again by a
 * cookie client, and request lines logged without their secrets.
 */
import { type AddressInfo, connect } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logOptions } from './app.js';
import { createTestApp, type TestApp } from './test-app.js';
import { bearer, cookieLogin, expectError, json, PASSWORD, register, tokenLogin, uniqueEmail } from './test-helpers.js';

const USER_MEMBERS = ['created_at', 'email', 'id', 'name'];

describe('one name for one thing', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.app.close();
  });

  it('POST /v1/token (password grant) takes `email` where it takes `username`', async () => {
    const user = await register(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/token',
      payload: { grant_type: 'password', email: user.email, password: PASSWORD },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res).token_type).toBe('Bearer');
    const form = await t.app.inject({
      method: 'POST',
      url: '/v1/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=password&email=${encodeURIComponent(user.email)}&password=${encodeURIComponent(PASSWORD)}`,
    });
    expect(form.statusCode, form.body).toBe(200);
  });

  it('POST /v1/sessions takes `username` where it takes `email`; neither is a 400', async () => {
    const user = await register(t.app);
    const res = await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { username: user.email, password: PASSWORD } });
    expect(res.statusCode, res.body).toBe(201);
    expect(json<{ user: { id: string } }>(res).user.id).toBe(user.id);
    expectError(await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { password: PASSWORD } }), 400, 'invalid_request');
  });

  it('a user is { id, email, name, created_at } in sign-up and cookie login alike, name null when unset', async () => {
    const email = uniqueEmail();
    const created = await t.app.inject({ method: 'POST', url: '/v1/users', payload: { email, password: PASSWORD } });
    const signUp = json(created);
    expect(Object.keys(signUp).sort()).toEqual(USER_MEMBERS);
    expect(signUp.name).toBeNull();
    const login = json<{ user: Record<string, unknown> }>(
      await t.app.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password: PASSWORD } }),
    );
    expect(login.user).toEqual(signUp);
  });

  it('GET /v1/me has the same members, and the same values, by Bearer and by cookie', async () => {
    const user = await register(t.app);
    const tokens = await tokenLogin(t.app, user);
    const session = await cookieLogin(t.app, user);
    const byToken = json(await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(tokens.access_token) }));
    const byCookie = json(await t.app.inject({ method: 'GET', url: '/v1/me', headers: session.cookie }));
    expect(Object.keys(byCookie).sort()).toEqual(['auth', 'email', 'id', 'name', 'roles', 'sid', 'sub']);
    expect(byCookie).toMatchObject({ sub: user.id, id: user.id, email: user.email, name: null, auth: 'session', sid: session.sid });
    // Bearer: from the claims alone; `email` only when the token carries it.
    expect(byToken).toMatchObject({ sub: user.id, id: user.id, name: null, auth: 'jwt' });
    for (const key of Object.keys(byToken)) expect(Object.keys(byCookie)).toContain(key);
  });
});

describe('405 for a known path with the wrong method', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.app.close();
  });

  /** Every route path, a method it lacks, and the Allow it must name. */
  const CASES: [method: string, url: string, allow: string][] = [
    ['GET', '/v1/users', 'POST, OPTIONS'],
    ['GET', '/v1/token', 'POST, OPTIONS'],
    ['PUT', '/v1/token', 'POST, OPTIONS'],
    ['GET', '/v1/logout', 'POST, OPTIONS'],
    ['PUT', '/v1/sessions', 'GET, HEAD, POST, DELETE, OPTIONS'],
    ['POST', '/v1/sessions/current', 'GET, HEAD, DELETE, OPTIONS'],
    ['GET', '/v1/sessions/others', 'DELETE, OPTIONS'],
    ['GET', '/v1/sessions/some-session-id', 'DELETE, OPTIONS'],
    ['POST', '/v1/me', 'GET, HEAD, OPTIONS'],
    ['GET', '/v1/me/password', 'POST, OPTIONS'],
    ['POST', '/v1/revocations', 'GET, HEAD, OPTIONS'],
    ['DELETE', '/v1/revocations/stream', 'GET, HEAD, OPTIONS'],
    ['POST', '/.well-known/jwks.json', 'GET, HEAD, OPTIONS'],
    ['POST', '/.well-known/openid-configuration', 'GET, HEAD, OPTIONS'],
    ['GET', '/oauth/introspect', 'POST, OPTIONS'],
    ['GET', '/oauth/revoke', 'POST, OPTIONS'],
    ['POST', '/healthz', 'GET, HEAD, OPTIONS'],
    ['DELETE', '/readyz', 'GET, HEAD, OPTIONS'],
    ['POST', '/metrics', 'GET, HEAD, OPTIONS'],
    ['POST', '/openapi.json', 'GET, HEAD, OPTIONS'],
    ['POST', '/', 'GET, HEAD, OPTIONS'],
    ['POST', '/docs', 'GET, HEAD, OPTIONS'],
    ['PATCH', '/v1/users', 'POST, OPTIONS'],
    ['POST', '/v1/admin/users/some-user-id/roles', 'GET, HEAD, PUT, OPTIONS'],
  ];

  it.each(CASES)('%s %s: 405 method_not_allowed, Allow: %s', async (method, url, allow) => {
    const res = await t.app.inject({ method: method as 'GET', url: `${url}?q=1` });
    expectError(res, 405, 'method_not_allowed');
    expect(res.headers.allow).toBe(allow);
  });

  it('the cases cover every route path the app documents', async () => {
    const doc = json<{ paths: Record<string, unknown> }>(await t.app.inject({ method: 'GET', url: '/openapi.json' }));
    const covered = new Set(CASES.map(([, url]) => url.replace('some-session-id', '{sid}').replace('some-user-id', '{id}')));
    for (const path of Object.keys(doc.paths)) expect(covered, path).toContain(path);
  });

  it('an unknown path stays 404, whatever the method', async () => {
    for (const method of ['GET', 'POST', 'DELETE'] as const) {
      expectError(await t.app.inject({ method, url: '/v1/nothing-here' }), 404, 'not_found');
    }
    expectError(await t.app.inject({ method: 'GET', url: '/v1/sessions/a/b' }), 404, 'not_found');
  });
});

describe('GET /v1/sessions/current: a cookie client reads its CSRF token again', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.app.close();
  });

  it('answers the current session as the list shows it, plus csrf_token, which then passes the CSRF check', async () => {
    const user = await register(t.app);
    const session = await cookieLogin(t.app, user);
    const res = await t.app.inject({ method: 'GET', url: '/v1/sessions/current', headers: session.cookie });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const current = json<Record<string, unknown>>(res);
    expect(current.csrf_token).toBe(session.csrf);
    const list = json<{ sessions: Record<string, unknown>[] }>(
      await t.app.inject({ method: 'GET', url: '/v1/sessions', headers: session.cookie }),
    );
    const { csrf_token: _, ...asListed } = current;
    expect(list.sessions.find((s) => s.id === session.sid)).toEqual(asListed);
    expect(asListed.current).toBe(true);
    // A client without Origin (not a browser) uses the token it read back.
    const out = await t.app.inject({
      method: 'DELETE',
      url: '/v1/sessions/current',
      headers: { ...session.cookie, 'x-csrf-token': current.csrf_token as string },
    });
    expect(out.statusCode, out.body).toBe(204);
  });

  it('by Bearer: the token session, with no CSRF token', async () => {
    const tokens = await tokenLogin(t.app, await register(t.app));
    const res = await t.app.inject({ method: 'GET', url: '/v1/sessions/current', headers: bearer(tokens.access_token) });
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res)).toMatchObject({ kind: 'token', current: true, csrf_token: null });
  });

  it('without credentials: 401', async () => {
    expectError(await t.app.inject({ method: 'GET', url: '/v1/sessions/current' }), 401);
  });
});

describe('secrets never reach logs', () => {
  it('an absolute-form request line is logged without its userinfo, nor its query values', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const t = await createTestApp({}, undefined, { logger: { ...logOptions('info'), stream } });
    try {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.server.address() as AddressInfo;
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        let data = '';
        socket.setEncoding('latin1');
        socket.on('data', (chunk: string) => {
          data += chunk;
        });
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
        socket.write(
          'GET http://alice:hunter2-secret@auth.test/healthz?token=qs-secret HTTP/1.1\r\nhost: auth.test\r\nconnection: close\r\n\r\n',
        );
      });
      expect(answer.slice(9, 12)).toMatch(/^[24]\d\d$/);
      const log = lines.join('');
      expect(log).toContain('incoming request');
      expect(log).toContain('http://auth.test/healthz?token=[redacted]');
      for (const secret of ['hunter2-secret', 'alice:', 'qs-secret']) expect(log).not.toContain(secret);
      // The answer does not echo it either.
      expect(answer).not.toContain('hunter2-secret');
    } finally {
      await t.app.close();
    }
  });
});
