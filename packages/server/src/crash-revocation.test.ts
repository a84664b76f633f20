// Revocation events are durable before sessions are marked, and every session check honours
// them: a crash between the two leaves no session usable. The real-process version (SIGKILL in
// the middle of "log out everywhere") is e2e/crash-logout.test.ts.
import { createMemoryStores, type Stores } from '@tessera/stores';
import { describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import {
  bearer,
  type CookieSession,
  cookieLogin,
  decodePayload,
  expectError,
  expectInvalidToken,
  json,
  me,
  type Registered,
  refreshGrant,
  register,
  type Tokens,
  tokenLogin,
} from './test-helpers.js';

/** A crash where nothing after it runs: marking sessions revoked fails, as the process would have died. */
class Crash extends Error {}

/** Memory stores whose session marks throw while `crashing` is set. */
function crashingStores() {
  const stores = createMemoryStores();
  const state = { crashing: false };
  const { revoke, revokeMany, revokeUser } = stores.sessions;
  stores.sessions.revoke = async (...args) => {
    if (state.crashing) throw new Crash('killed before the mark');
    return revoke.apply(stores.sessions, args);
  };
  stores.sessions.revokeMany = async (...args) => {
    if (state.crashing) throw new Crash('killed before the marks');
    return revokeMany.apply(stores.sessions, args);
  };
  stores.sessions.revokeUser = async (...args) => {
    if (state.crashing) throw new Crash('killed before the marks');
    return revokeUser.apply(stores.sessions, args);
  };
  return { stores, state };
}

interface Logged {
  user: Registered;
  tokens: Tokens[];
  cookies: CookieSession[];
}

async function sessionsOf(t: TestApp, n: number): Promise<Logged> {
  const user = await register(t.app);
  const tokens: Tokens[] = [];
  const cookies: CookieSession[] = [];
  for (let i = 0; i < n; i++) {
    tokens.push(await tokenLogin(t.app, user));
    cookies.push(await cookieLogin(t.app, user));
  }
  return { user, tokens, cookies };
}

/** How many of these credentials still get anywhere: cookie or Bearer on /v1/me, a refresh. */
async function usable(t: TestApp, logged: Pick<Logged, 'tokens' | 'cookies'>): Promise<number> {
  let n = 0;
  for (const c of logged.cookies) if ((await me(t.app, c.cookie)).statusCode === 200) n++;
  for (const tk of logged.tokens) {
    if ((await me(t.app, bearer(tk.access_token))).statusCode === 200) n++;
    if ((await refreshGrant(t.app, tk.refresh_token)).statusCode === 200) n++;
  }
  return n;
}

const sidOf = (tokens: Tokens) => decodePayload(tokens.access_token).sid as string;

describe('a crash between revocation events and session marks', () => {
  // A crash during "log out everywhere" leaves access tokens valid, and the retry says 204: the
  // sessions were marked first and the events written after, one by one.
  it('a crash during "log out everywhere" leaves access tokens valid: after the events, nothing works', async () => {
    const { stores, state } = crashingStores();
    const t = await createTestApp({}, stores);
    const logged = await sessionsOf(t, 3);
    const caller = logged.tokens[0] as Tokens;
    state.crashing = true;
    const res = await t.app.inject({ method: 'DELETE', url: '/v1/sessions', headers: bearer(caller.access_token) });
    expect(res.statusCode).toBe(500);
    state.crashing = false;
    // Every session still looks live in the store, yet none is usable: 0 of 9 credentials.
    expect(await stores.sessions.listActive(logged.user.id, t.clock.now)).toHaveLength(6);
    expect(await usable(t, logged)).toBe(0);

    // The retry, from a new login, completes it: 204, every session marked, every event there.
    const fresh = await tokenLogin(t.app, logged.user);
    const retry = await t.app.inject({ method: 'DELETE', url: '/v1/sessions', headers: bearer(fresh.access_token) });
    expect(retry.statusCode).toBe(204);
    expect(await stores.sessions.listActive(logged.user.id, t.clock.now)).toEqual([]);
    const sids = new Set((await stores.revocations.since(null, 1000)).map((e) => e.sid));
    for (const sid of [...logged.tokens.map(sidOf), ...logged.cookies.map((c) => c.sid), sidOf(fresh)]) {
      expect(sids.has(sid)).toBe(true);
    }
  });

  it('a crash during a single logout leaves the session ended by its event', async () => {
    const { stores, state } = crashingStores();
    const t = await createTestApp({}, stores);
    const logged = await sessionsOf(t, 1);
    const [tokens, cookie] = [logged.tokens[0] as Tokens, logged.cookies[0] as CookieSession];
    state.crashing = true;
    expect((await t.app.inject({ method: 'POST', url: '/v1/logout', headers: bearer(tokens.access_token) })).statusCode).toBe(500);
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: cookie.csrfHeaders })).statusCode).toBe(500);
    state.crashing = false;
    expect(await usable(t, logged)).toBe(0);
  });

  it('introspection calls a refresh token of a session ended by an event whose mark never landed inactive', async () => {
    const t = await createTestApp({ TESSERA_RESOURCE_SERVERS: 'rs1:introspection-secret-16+' });
    const logged = await sessionsOf(t, 2);
    const [ended, witness] = [logged.tokens[0] as Tokens, logged.tokens[1] as Tokens];
    const now = Math.ceil(t.clock.now / 1000);
    const event = await t.stores.revocations.append({
      sid: sidOf(ended),
      sub: null,
      notBefore: now + 1,
      until: now + 700,
      reason: 'logout',
    });
    t.app.tessera.revocations.add(event);
    const introspect = async (token: string) =>
      json<{ active: boolean }>(
        await t.app.inject({
          method: 'POST',
          url: '/oauth/introspect',
          headers: { authorization: `Basic ${Buffer.from('rs1:introspection-secret-16+').toString('base64')}` },
          payload: { token },
        }),
      ).active;
    expect(await introspect(ended.refresh_token)).toBe(false);
    expect(await introspect(witness.refresh_token)).toBe(true);
  });

  it('every session check honours an event whose mark never landed, and marks the session then', async () => {
    const t = await createTestApp();
    const logged = await sessionsOf(t, 2);
    const [cookie, tokens] = [logged.cookies[0] as CookieSession, logged.tokens[0] as Tokens];
    const witness = logged.tokens[1] as Tokens;
    const ended = [cookie.sid, sidOf(tokens)];
    const now = Math.ceil(t.clock.now / 1000);
    for (const sid of ended) {
      const event = await t.stores.revocations.append({ sid, sub: null, notBefore: now + 1, until: now + 700, reason: 'logout' });
      t.app.tessera.revocations.add(event);
    }

    // The listing leaves them out (and marks them).
    const list = await t.app.inject({ method: 'GET', url: '/v1/sessions', headers: bearer(witness.access_token) });
    const listed = json<{ sessions: { id: string }[] }>(list).sessions.map((s) => s.id);
    expect(listed).not.toContain(cookie.sid);
    expect(listed).not.toContain(sidOf(tokens));
    expect(listed).toHaveLength(2);

    expect((await me(t.app, cookie.cookie)).statusCode).toBe(401);
    expectInvalidToken(await me(t.app, bearer(tokens.access_token)));
    expectError(await refreshGrant(t.app, tokens.refresh_token), 400, 'invalid_grant');
    for (const sid of ended) expect((await t.stores.sessions.get(sid))?.revokedAt).not.toBeNull();
    expect((await me(t.app, bearer(witness.access_token))).statusCode).toBe(200);
  });

  it('each check alone: cookie lookup and refresh refuse a session ended by an event only', async () => {
    const t = await createTestApp();
    const logged = await sessionsOf(t, 1);
    const [cookie, tokens] = [logged.cookies[0] as CookieSession, logged.tokens[0] as Tokens];
    const now = Math.ceil(t.clock.now / 1000);
    for (const sid of [cookie.sid, sidOf(tokens)]) {
      t.app.tessera.revocations.add({ sid, sub: null, notBefore: now + 1, until: now + 700 });
    }
    expect((await me(t.app, cookie.cookie)).statusCode).toBe(401);
    expectError(await refreshGrant(t.app, tokens.refresh_token), 400, 'invalid_grant');
    expect(await t.stores.sessions.listActive(logged.user.id, t.clock.now)).toEqual([]);
  });

  it('a restart on the same stores marks every session its retained events name', async () => {
    const stores: Stores = createMemoryStores();
    const first = await createTestApp({}, stores);
    const logged = await sessionsOf(first, 2);
    const sids = [...logged.tokens.map(sidOf), ...logged.cookies.map((c) => c.sid)];
    const now = Math.ceil(first.clock.now / 1000);
    // Written by a node that died before marking them.
    await stores.revocations.appendAll(
      sids.map((sid) => ({ sid, sub: null, notBefore: now + 1, until: now + 700, reason: 'logout_everywhere' })),
    );
    await first.app.close();

    const second = await createTestApp({}, stores, { kek: first.kek, clock: first.clock });
    expect(await stores.sessions.listActive(logged.user.id, second.clock.now)).toEqual([]);
    expect(await usable(second, logged)).toBe(0);
  });
});
