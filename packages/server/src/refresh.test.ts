import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import {
  bearer,
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
  type Tokens,
  tokenLogin,
} from './test-helpers.js';

describe('POST /v1/token, refresh_token grant', () => {
  let t: TestApp;
  let user: Registered;
  beforeAll(async () => {
    t = await createTestApp({ TESSERA_REFRESH_TOKEN_TTL: '86400', ...FEED_ENV });
    user = await register(t.app);
  });

  async function refreshOk(token: string): Promise<Tokens> {
    const res = await refreshGrant(t.app, token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    return json<Tokens>(res);
  }

  it('rotates: a new refresh token and a new access token of the same session', async () => {
    const first = await tokenLogin(t.app, user);
    t.clock.advance(5_000);
    const second = await refreshOk(first.refresh_token);
    expect(second.token_type).toBe('Bearer');
    expect(second.refresh_token).toMatch(/^rt_/);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect(decodePayload(second.access_token).sid).toBe(decodePayload(first.access_token).sid);
    expect(json(await me(t.app, bearer(second.access_token)))).toMatchObject({ id: user.id, auth: 'jwt' });
    // The successor rotates in turn.
    const third = await refreshOk(second.refresh_token);
    expect(third.refresh_token).not.toBe(second.refresh_token);
  });

  // Scope escalation by refresh: RFC 6749 §6, the new scope must not include any scope not originally granted.
  it('keeps the scope granted at login: a refresh may narrow it for one access token, never widen it', async () => {
    const token = (payload: Record<string, string>) => t.app.inject({ method: 'POST', url: '/v1/token', payload });
    const login = json<Tokens & { scope?: string }>(
      await token({ grant_type: 'password', username: user.email, password: user.password, scope: 'openid profile' }),
    );
    expect(decodePayload(login.access_token).scope).toBe('openid profile');
    const refresh = (refresh_token: string, scope?: string) =>
      token({ grant_type: 'refresh_token', refresh_token, ...(scope ? { scope } : {}) });
    // Wider, or another scope: refused, and the token is not spent.
    for (const scope of ['openid profile email', 'offline_access', 'openid email']) {
      expectError(await refresh(login.refresh_token, scope), 400, 'invalid_scope');
    }
    // Omitted: the granted scope. Narrower: that access token only; the family keeps what it was granted.
    const same = json<Tokens & { scope?: string }>(await refresh(login.refresh_token));
    expect(decodePayload(same.access_token).scope).toBe('openid profile');
    const narrow = json<Tokens & { scope?: string }>(await refresh(same.refresh_token, 'openid'));
    expect(decodePayload(narrow.access_token).scope).toBe('openid');
    const back = json<Tokens & { scope?: string }>(await refresh(narrow.refresh_token, 'profile openid'));
    expect(decodePayload(back.access_token).scope).toBe('profile openid');
    expectError(await refresh(back.refresh_token, 'openid email'), 400, 'invalid_scope');

    // A login that asked for no scope gets none by refresh either.
    const bare = await tokenLogin(t.app, user);
    expect(decodePayload(bare.access_token).scope).toBeUndefined();
    expectError(await refresh(bare.refresh_token, 'openid'), 400, 'invalid_scope');
    expect(decodePayload(json<Tokens>(await refresh(bare.refresh_token)).access_token).scope).toBeUndefined();
  });

  it('an inherited scope loses what the server stopped granting; a family stored before scopes were recorded is bound at its first refresh', async () => {
    const token = (app: typeof t.app, payload: Record<string, string>) => app.inject({ method: 'POST', url: '/v1/token', payload });
    const before = await createTestApp({ TESSERA_SCOPES: 'openid profile admin' });
    const someone = await register(before.app);
    const login = json<Tokens>(
      await token(before.app, { grant_type: 'password', username: someone.email, password: someone.password, scope: 'openid admin' }),
    );
    // The operator withdraws "admin": a server restarted on the same stores with the new setting.
    const after = await createTestApp({ TESSERA_SCOPES: 'openid profile' }, before.stores, { kek: before.kek, clock: before.clock });
    const next = json<Tokens>(await token(after.app, { grant_type: 'refresh_token', refresh_token: login.refresh_token }));
    expect(decodePayload(next.access_token).scope).toBe('openid');

    // A family stored before scopes were recorded (scope NULL): its first refresh sets the bound.
    const legacy = await tokenLogin(after.app, someone);
    const id = legacy.refresh_token.slice(3, 25);
    const row = await after.stores.refreshTokens.get(id);
    expect(row?.scope).toBe('');
    await after.stores.refreshTokens.deleteFamily(row?.sessionId as string);
    await after.stores.refreshTokens.create({ ...(row as NonNullable<typeof row>), scope: null });
    const bound = json<Tokens>(
      await token(after.app, { grant_type: 'refresh_token', refresh_token: legacy.refresh_token, scope: 'openid' }),
    );
    expect(decodePayload(bound.access_token).scope).toBe('openid');
    expectError(
      await token(after.app, { grant_type: 'refresh_token', refresh_token: bound.refresh_token, scope: 'openid profile' }),
      400,
      'invalid_scope',
    );
  });

  it('a spent token asking for another scope is still reuse: the family is revoked', async () => {
    const login = await tokenLogin(t.app, user);
    await refreshOk(login.refresh_token);
    t.clock.advance(60_000);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/token',
      payload: { grant_type: 'refresh_token', refresh_token: login.refresh_token, scope: 'openid email' },
    });
    expectError(res, 400, 'invalid_grant');
    expect(res.body).toContain('already used');
  });

  it('gives 50 concurrent refreshes with one token the same successor (two tabs racing)', async () => {
    const first = await tokenLogin(t.app, user);
    const results = await Promise.all(Array.from({ length: 50 }, () => refreshGrant(t.app, first.refresh_token)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(50).fill(200));
    const successors = new Set(results.map((r) => json<Tokens>(r).refresh_token));
    expect(successors.size).toBe(1);
    const [successor] = successors;
    expect(successor).not.toBe(first.refresh_token);
    // The family is intact: the one successor works.
    await refreshOk(successor as string);
  });

  it('within the grace window a repeat gets the same successor; after it, reuse revokes the whole family', async () => {
    const first = await tokenLogin(t.app, user);
    const second = await refreshOk(first.refresh_token);
    t.clock.advance(9_000);
    const again = await refreshOk(first.refresh_token);
    expect(again.refresh_token).toBe(second.refresh_token);
    // An access token of the family, issued before the reuse.
    expect((await me(t.app, bearer(again.access_token))).statusCode).toBe(200);

    t.clock.advance(2_000); // 11 s after the rotation: past the 10 s grace.
    const before = await t.app.inject({ method: 'GET', url: '/v1/revocations?since=0', headers: feedAuth() });
    const reuse = await refreshGrant(t.app, first.refresh_token);
    const body = expectError(reuse, 400, 'invalid_grant');
    expect(body.error_description).toMatch(/already used/);

    // The successor no longer works: the family is revoked.
    expectError(await refreshGrant(t.app, second.refresh_token), 400, 'invalid_grant');
    // Access tokens carrying that sid are refused at once.
    const refused = await me(t.app, bearer(again.access_token));
    expectInvalidToken(refused);
    expectInvalidToken(await me(t.app, bearer(first.access_token)));
    // The session is gone from the store and a revocation event was written.
    const sid = decodePayload(first.access_token).sid as string;
    expect((await t.stores.sessions.get(sid))?.revokedAt).not.toBeNull();
    const after = json<{ events: { sid: string }[] }>(
      await t.app.inject({ method: 'GET', url: '/v1/revocations?since=0', headers: feedAuth() }),
    );
    expect(after.events.length).toBe(json<{ events: unknown[] }>(before).events.length + 1);
    expect(after.events.at(-1)?.sid).toBe(sid);
  });

  it('treats reuse of a token two generations back as reuse too', async () => {
    const first = await tokenLogin(t.app, user);
    const second = await refreshOk(first.refresh_token);
    t.clock.advance(11_000);
    const third = await refreshOk(second.refresh_token);
    t.clock.advance(11_000);
    expectError(await refreshGrant(t.app, first.refresh_token), 400, 'invalid_grant');
    expectError(await refreshGrant(t.app, third.refresh_token), 400, 'invalid_grant');
    expectInvalidToken(await me(t.app, bearer(third.access_token)));
  });

  it('ends at the absolute lifetime (TESSERA_REFRESH_TOKEN_TTL) however often it is rotated', async () => {
    let tokens = await tokenLogin(t.app, user);
    // Rotate every 6 hours for 23 hours: each works.
    for (let i = 0; i < 3; i++) {
      t.clock.advance(6 * 3_600_000);
      tokens = await refreshOk(tokens.refresh_token);
    }
    t.clock.advance(6 * 3_600_000 + 1); // 24 h + 1 ms after login
    const res = await refreshGrant(t.app, tokens.refresh_token);
    expectError(res, 400, 'invalid_grant');
  });

  it('an unused refresh token also dies at the absolute lifetime', async () => {
    const tokens = await tokenLogin(t.app, user);
    t.clock.advance(86_400_000 - 1);
    const ok = await refreshOk(tokens.refresh_token);
    t.clock.advance(1);
    expectError(await refreshGrant(t.app, ok.refresh_token), 400, 'invalid_grant');
  });

  it('refuses garbage refresh tokens with invalid_grant', async () => {
    const real = (await tokenLogin(t.app, user)).refresh_token;
    const flipped = real.slice(0, -1) + (real.endsWith('A') ? 'B' : 'A');
    const otherId = `rt_${'A'.repeat(22)}${real.slice(25)}`;
    for (const token of [
      '',
      'rt_',
      'garbage',
      `${real}x`,
      real.slice(0, -1),
      flipped,
      otherId,
      real.replace('rt_', 'RT_'),
      `rt_${'x'.repeat(4000)}`,
    ]) {
      const res = await refreshGrant(t.app, token);
      expectError(res, 400, 'invalid_grant');
      if (token.length > 3) expect(res.body).not.toContain(token);
    }
    // The real one was not disturbed by the near misses.
    await refreshOk(real);
  });

  it('refuses an access token presented as a refresh token', async () => {
    const tokens = await tokenLogin(t.app, user);
    expectError(await refreshGrant(t.app, tokens.access_token), 400, 'invalid_grant');
  });
});
