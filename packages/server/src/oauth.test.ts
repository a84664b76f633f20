import { Buffer } from 'node:buffer';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import {
  bearer,
  decodePayload,
  expectError,
  expectInvalidToken,
  ISSUER,
  json,
  me,
  type Registered,
  refreshGrant,
  register,
  type Tokens,
  tokenLogin,
} from './test-helpers.js';

const SECRET = 'resource-server-secret-0123456789';
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('POST /oauth/introspect (RFC 7662)', () => {
  let t: TestApp;
  let user: Registered;
  beforeAll(async () => {
    t = await createTestApp({ TESSERA_INTROSPECTION_CLIENTS: `rs1:${SECRET},rs2:another-secret-of-16+chars` });
    user = await register(t.app);
  });

  const introspect = (token: string, authorization: string | null = basic('rs1', SECRET), hint?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
      payload: new URLSearchParams({ token, ...(hint ? { token_type_hint: hint } : {}) }).toString(),
    });

  it('requires resource-server credentials by HTTP Basic: none or wrong → 401 invalid_client', async () => {
    const { access_token } = await tokenLogin(t.app, user);
    for (const authorization of [
      null,
      basic('rs1', 'wrong-secret-wrong-secret'),
      basic('rs1', `${SECRET}x`),
      basic('rs1', SECRET.slice(0, -1)),
      basic('rs3', SECRET),
      basic('', SECRET),
      `Basic ${Buffer.from(SECRET).toString('base64')}`,
      'Basic !!!',
      bearer(access_token).authorization,
    ]) {
      const res = await introspect(access_token, authorization);
      expectError(res, 401, 'invalid_client');
      expect(String(res.headers['www-authenticate'])).toMatch(/^Basic /);
      expect(res.body).not.toContain('"active"');
    }
    expect(json(await introspect(access_token, basic('rs2', 'another-secret-of-16+chars'))).active).toBe(true);
  });

  // Online guessing of resource-server secrets: wrong credentials are counted per client address.
  it('after 10 wrong secrets for one client from one address, answers 429 with Retry-After, even to the right one; other addresses are unaffected', async () => {
    const app = (await createTestApp({ TESSERA_INTROSPECTION_CLIENTS: `rs1:${SECRET}` })).app;
    const { access_token } = await tokenLogin(app, await register(app));
    const from = (remoteAddress: string, authorization: string) =>
      app.inject({
        method: 'POST',
        url: '/oauth/introspect',
        remoteAddress,
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
        payload: new URLSearchParams({ token: access_token }).toString(),
      });
    for (let i = 0; i < 30; i++) expect(json(await from('203.0.113.20', basic('rs1', SECRET))).active).toBe(true);
    // Requests naming no configured client are not counted: a neighbour behind the same address cannot lock rs1 out.
    for (let i = 0; i < 30; i++) {
      expectError(await from('203.0.113.20', basic(`other-${i}`, SECRET)), 401, 'invalid_client');
      expectError(await from('203.0.113.20', 'Basic !!!'), 401, 'invalid_client');
    }
    expect(json(await from('203.0.113.20', basic('rs1', SECRET))).active).toBe(true);
    for (let i = 0; i < 10; i++)
      expectError(await from('203.0.113.20', basic('rs1', `guess-${i}-xxxxxxxxxxxxxxxx`)), 401, 'invalid_client');
    const blocked = await from('203.0.113.20', basic('rs1', SECRET));
    expectError(blocked, 429, 'too_many_requests');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(json(await from('198.51.100.20', basic('rs1', SECRET))).active).toBe(true);
  });

  it('answers a live access token with active: true and its claims', async () => {
    const { access_token } = await tokenLogin(t.app, user);
    const res = await introspect(access_token);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = json(res);
    const claims = decodePayload(access_token);
    expect(body).toMatchObject({
      active: true,
      token_type: 'Bearer',
      sub: user.id,
      iss: ISSUER,
      exp: claims.exp,
      iat: claims.iat,
      sid: claims.sid,
      client_id: 'tessera',
    });
    // With a hint too.
    expect(json(await introspect(access_token, basic('rs1', SECRET), 'access_token')).active).toBe(true);
  });

  it('answers a live refresh token with active: true, its subject, session and expiry', async () => {
    const tokens = await tokenLogin(t.app, user);
    const body = json(await introspect(tokens.refresh_token, basic('rs1', SECRET), 'refresh_token'));
    expect(body).toMatchObject({
      active: true,
      token_type: 'refresh_token',
      sub: user.id,
      sid: decodePayload(tokens.access_token).sid,
      iss: ISSUER,
      exp: Math.floor(t.clock.now / 1000) + 30 * 86_400,
    });
    // Introspection is read-only: the token still rotates.
    expect((await refreshGrant(t.app, tokens.refresh_token)).statusCode).toBe(200);
  });

  it('answers active: false (and nothing else) for revoked, expired, rotated and garbage tokens', async () => {
    const revoked = await tokenLogin(t.app, user);
    await t.app.inject({ method: 'POST', url: '/v1/logout', headers: bearer(revoked.access_token) });
    const rotated = await tokenLogin(t.app, user);
    await refreshGrant(t.app, rotated.refresh_token);
    const expiring = await tokenLogin(t.app, user);

    const inactive = async (token: string) => {
      const res = await introspect(token);
      expect(res.statusCode).toBe(200);
      expect(json(res)).toEqual({ active: false });
    };
    await inactive(revoked.access_token);
    await inactive(revoked.refresh_token);
    await inactive(rotated.refresh_token);
    for (const garbage of ['garbage', 'a.b.c', `rt_${'A'.repeat(65)}`, 'rt_', `${expiring.access_token}x`, 'x'.repeat(10_000)])
      await inactive(garbage);

    t.clock.advance(631_000);
    await inactive(expiring.access_token);
  });

  it('refuses a request without a token with 400 invalid_request', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { authorization: basic('rs1', SECRET) },
      payload: {},
    });
    expectError(res, 400, 'invalid_request');
  });

  it('refuses every client when none is configured', async () => {
    const bare = await createTestApp();
    const res = await bare.app.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { authorization: basic('rs1', SECRET) },
      payload: { token: 'anything' },
    });
    expectError(res, 401, 'invalid_client');
  });
});

describe('POST /oauth/revoke (RFC 7009)', () => {
  let t: TestApp;
  let user: Registered;
  beforeAll(async () => {
    t = await createTestApp();
    user = await register(t.app);
  });

  const revoke = (token: string, hint?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token, ...(hint ? { token_type_hint: hint } : {}) }).toString(),
    });

  it('revoking a refresh token ends its session: 200, refresh fails, its access tokens are refused', async () => {
    const tokens: Tokens = await tokenLogin(t.app, user);
    const other = await tokenLogin(t.app, user);
    const res = await revoke(tokens.refresh_token, 'refresh_token');
    expect(res.statusCode).toBe(200);
    expectError(await refreshGrant(t.app, tokens.refresh_token), 400, 'invalid_grant');
    expectInvalidToken(await me(t.app, bearer(tokens.access_token)));
    expect((await me(t.app, bearer(other.access_token))).statusCode).toBe(200);
  });

  it('revoking an access token ends its session too', async () => {
    const tokens = await tokenLogin(t.app, user);
    expect((await revoke(tokens.access_token)).statusCode).toBe(200);
    expectInvalidToken(await me(t.app, bearer(tokens.access_token)));
    expectError(await refreshGrant(t.app, tokens.refresh_token), 400, 'invalid_grant');
  });

  it('answers 200 for invalid, unknown and already-revoked tokens alike', async () => {
    const tokens = await tokenLogin(t.app, user);
    await revoke(tokens.refresh_token);
    for (const token of [tokens.refresh_token, tokens.access_token, 'garbage', `rt_${'B'.repeat(65)}`, 'a.b.c', '']) {
      const res = await revoke(token);
      expect(res.statusCode, token).toBe(200);
    }
  });

  it('refuses a request without a token parameter with 400 invalid_request', async () => {
    expectError(await t.app.inject({ method: 'POST', url: '/oauth/revoke', payload: {} }), 400, 'invalid_request');
  });
});
