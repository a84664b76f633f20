import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import {
  bearer,
  decodeHeader,
  decodePayload,
  expectError,
  ISSUER,
  json,
  me,
  passwordGrant,
  type Registered,
  register,
  type Tokens,
  uniqueEmail,
} from './test-helpers.js';

describe('POST /v1/token, password grant', () => {
  let t: TestApp;
  let user: Registered;
  beforeAll(async () => {
    t = await createTestApp();
    user = await register(t.app, uniqueEmail(), undefined, 'Ada Lovelace');
  });

  function expectTokenResponse(res: Awaited<ReturnType<typeof passwordGrant>>): Tokens {
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
    const body = json<Tokens>(res);
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(600);
    expect(body.refresh_token).toMatch(/^rt_[A-Za-z0-9_-]{65}$/);
    expect(body.access_token.split('.')).toHaveLength(3);
    return body;
  }

  it('answers JSON credentials with an RFC 6749 token response and an RFC 9068 access token', async () => {
    const body = expectTokenResponse(await passwordGrant(t.app, user.email, user.password));
    const header = decodeHeader(body.access_token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(header.kid).toBe(t.app.tessera.keys.signingKey().kid);
    const claims = decodePayload(body.access_token);
    const now = t.clock.now / 1000;
    expect(claims).toMatchObject({ iss: ISSUER, aud: ISSUER, sub: user.id, email: user.email, name: 'Ada Lovelace', client_id: 'tessera' });
    expect(claims.iat).toBe(Math.floor(now));
    expect(claims.exp).toBe(Math.floor(now) + 600);
    expect(typeof claims.jti).toBe('string');
    expect(typeof claims.sid).toBe('string');
    // The token works where it is meant to.
    const who = await me(t.app, bearer(body.access_token));
    expect(json(who)).toMatchObject({ id: user.id, email: user.email, name: 'Ada Lovelace', auth: 'jwt', sid: claims.sid });
  });

  it('accepts form-encoded credentials the same way', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'password', username: user.email, password: user.password }).toString(),
    });
    expectTokenResponse(res);
  });

  it('carries a requested scope and client_id into the token', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/token',
      payload: { grant_type: 'password', username: user.email, password: user.password, scope: 'openid email', client_id: 'spa' },
    });
    expect(res.statusCode).toBe(200);
    const body = json<Tokens & { scope: string }>(res);
    expect(body.scope).toBe('openid email');
    expect(decodePayload(body.access_token)).toMatchObject({ scope: 'openid email', client_id: 'spa' });
  });

  // scope escalation: a client must not mint itself a scope that resource servers check (requireScope)
  it('refuses a scope the server does not grant (invalid_scope), at login and on refresh', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/token',
      payload: { grant_type: 'password', username: user.email, password: user.password, scope: 'openid admin' },
    });
    expectError(login, 400, 'invalid_scope');
    const tokens = json<Tokens>(await passwordGrant(t.app, user.email, user.password));
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/v1/token',
      payload: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, scope: 'admin' },
    });
    expectError(refresh, 400, 'invalid_scope');
  });

  it('gives every login its own session (sid) and refresh token', async () => {
    const a = json<Tokens>(await passwordGrant(t.app, user.email, user.password));
    const b = json<Tokens>(await passwordGrant(t.app, user.email, user.password));
    expect(decodePayload(a.access_token).sid).not.toBe(decodePayload(b.access_token).sid);
    expect(a.refresh_token).not.toBe(b.refresh_token);
  });

  it('answers a wrong password and an unknown user alike: 400 invalid_grant, identical bodies', async () => {
    const wrong = await passwordGrant(t.app, user.email, 'not the right passphrase', { remoteAddress: '10.1.0.1' });
    const unknown = await passwordGrant(t.app, uniqueEmail('nobody'), 'not the right passphrase', { remoteAddress: '10.1.0.2' });
    expectError(wrong, 400, 'invalid_grant');
    expectError(unknown, 400, 'invalid_grant');
    expect(unknown.body).toBe(wrong.body);
    expect(unknown.headers['cache-control']).toBe('no-store');
    expect(Object.keys(unknown.headers).sort()).toEqual(Object.keys(wrong.headers).sort());
  });

  it('refuses an empty password and a non-email username as invalid_grant', async () => {
    expectError(await passwordGrant(t.app, user.email, '', { remoteAddress: '10.1.0.3' }), 400, 'invalid_grant');
    expectError(await passwordGrant(t.app, 'not an email', user.password, { remoteAddress: '10.1.0.3' }), 400, 'invalid_grant');
  });

  it('answers an unsupported grant type with 400 unsupported_grant_type', async () => {
    for (const grant_type of ['client_credentials', 'authorization_code', 'PASSWORD', '']) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/token',
        payload: { grant_type, username: user.email, password: user.password },
      });
      expectError(res, 400, 'unsupported_grant_type');
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('answers missing or mistyped fields with 400 invalid_request', async () => {
    const cases: unknown[] = [
      {},
      { username: user.email, password: user.password },
      { grant_type: 'password', username: user.email },
      { grant_type: 'password', password: user.password },
      { grant_type: 'refresh_token' },
      { grant_type: 'password', username: user.email, password: 123 },
      { grant_type: ['password'], username: user.email, password: user.password },
      { grant_type: 'password', username: user.email, password: user.password, client_id: 'bad id with spaces' },
    ];
    for (const payload of cases) {
      expectError(await t.app.inject({ method: 'POST', url: '/v1/token', payload: payload as object }), 400, 'invalid_request');
    }
  });

  it('refuses a malformed scope with invalid_scope', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/token',
      payload: { grant_type: 'password', username: user.email, password: user.password, scope: 'a  "b"' },
    });
    expectError(res, 400, 'invalid_scope');
  });

  it('refuses malformed JSON (400) and other content types (415)', async () => {
    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/token',
      headers: { 'content-type': 'application/json' },
      payload: '{"grant_type":',
    });
    expectError(bad, 400, 'invalid_request');
    const text = await t.app.inject({
      method: 'POST',
      url: '/v1/token',
      headers: { 'content-type': 'text/plain' },
      payload: 'grant_type=password',
    });
    expectError(text, 415);
  });
});
