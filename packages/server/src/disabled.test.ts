/**
 * Disabled accounts: the right password is refused (`invalid_grant` at the token endpoint,
 * `account_disabled` for cookie login), a wrong one gets the usual answer so the mark tells a
 * guesser nothing, and a login racing the disable ends when it re-reads the user.
 */
import { createMemoryStores, openStores, type Stores } from '@tessera/stores';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import {
  cookieLogin,
  expectError,
  json,
  me,
  passwordGrant,
  type Registered,
  refreshGrant,
  register,
  sessionLogin,
  tokenLogin,
} from './test-helpers.js';

const BACKENDS: [string, () => Promise<Stores>][] = [
  ['memory', async () => createMemoryStores()],
  ['sqlite', () => openStores('sqlite::memory:')],
];

describe.each(BACKENDS)('a disabled account on %s', (_name, open) => {
  let t: TestApp;
  let user: Registered;

  beforeAll(async () => {
    t = await createTestApp({}, await open());
    user = await register(t.app);
    expect(await t.stores.users.setDisabled(user.id, t.clock(), t.clock())).toBe(true);
  });
  afterAll(async () => {
    await t?.app.close();
    await t?.stores.close();
  });

  it('the right password: 400 invalid_grant "account is disabled" at POST /v1/token, 403 account_disabled at POST /v1/sessions', async () => {
    const token = await passwordGrant(t.app, user.email, user.password);
    expect(json(token)).toEqual({ error: 'invalid_grant', error_description: 'account is disabled' });
    expect(token.statusCode).toBe(400);
    expect(token.headers['set-cookie']).toBeUndefined();
    const cookie = await sessionLogin(t.app, user.email, user.password);
    expectError(cookie, 403, 'account_disabled');
    expect(cookie.headers['set-cookie']).toBeUndefined();
    expect(await t.stores.sessions.listActive(user.id, t.clock())).toEqual([]);
  });

  it('a wrong password gets exactly the answer any wrong password gets', async () => {
    const other = await register(t.app);
    const strip = (body: string) => JSON.parse(body) as unknown;
    const disabled = await passwordGrant(t.app, user.email, 'not the password at all');
    const enabled = await passwordGrant(t.app, other.email, 'not the password at all');
    expect(disabled.statusCode).toBe(enabled.statusCode);
    expect(strip(disabled.body)).toEqual(strip(enabled.body));
    const disabledCookie = await sessionLogin(t.app, user.email, 'not the password at all');
    const enabledCookie = await sessionLogin(t.app, other.email, 'not the password at all');
    expectError(disabledCookie, 401, 'invalid_credentials');
    expect(strip(disabledCookie.body)).toEqual(strip(enabledCookie.body));
  });

  it("refreshing a disabled user's family is an invalid_grant (disabling ended its session)", async () => {
    const someone = await register(t.app);
    const tokens = await tokenLogin(t.app, someone);
    const { openAdmin } = await import('./admin/index.js');
    const admin = await openAdmin({ config: t.app.tessera.config, stores: t.stores, kek: t.kek, clock: t.clock });
    await admin.users.disable(someone.id);
    expectError(await refreshGrant(t.app, tokens.refresh_token), 400, 'invalid_grant');
    await admin.users.enable(someone.id);
    expectError(await refreshGrant(t.app, tokens.refresh_token), 400, 'invalid_grant');
    expect((await passwordGrant(t.app, someone.email, someone.password)).statusCode).toBe(200);
    await admin.close();
  });

  // A disable whose revocations missed the sessions (a tool pointed at another session store):
  // the mark alone still ends them.
  it('the disabled mark alone, without revocations, ends cookie sessions and refresh families', async () => {
    const someone = await register(t.app);
    const tokens = await tokenLogin(t.app, someone);
    const session = await cookieLogin(t.app, someone);
    expect((await me(t.app, session.cookie)).statusCode).toBe(200);
    expect(await t.stores.users.setDisabled(someone.id, t.clock(), t.clock())).toBe(true);
    expect(await t.stores.sessions.listActive(someone.id, t.clock())).toHaveLength(2);
    expectError(await me(t.app, session.cookie), 401);
    expect(json(await refreshGrant(t.app, tokens.refresh_token))).toEqual({
      error: 'invalid_grant',
      error_description: 'the account is disabled',
    });
    expect(await t.stores.users.setDisabled(someone.id, null, t.clock())).toBe(true);
    expect((await me(t.app, session.cookie)).statusCode).toBe(200);
    expect((await refreshGrant(t.app, tokens.refresh_token)).statusCode).toBe(200);
  });

  // A disable landing between the password check and the login's re-read of the user.
  it('a login racing a disable ends at its re-read of the user, its session revoked', async () => {
    const racer = await register(t.app);
    const users = t.stores.users;
    const findById = users.findById;
    for (const [attempt, expected] of [
      [() => passwordGrant(t.app, racer.email, racer.password), 400],
      [() => sessionLogin(t.app, racer.email, racer.password), 403],
    ] as const) {
      users.findById = async (id) => {
        await users.setDisabled(id, t.clock(), t.clock());
        return findById.call(users, id);
      };
      let res: Awaited<ReturnType<typeof attempt>>;
      try {
        res = await attempt();
      } finally {
        users.findById = findById;
      }
      expectError(res, expected, expected === 400 ? 'invalid_grant' : 'account_disabled');
      expect(await t.stores.sessions.listActive(racer.id, t.clock())).toEqual([]);
      await users.setDisabled(racer.id, null, t.clock());
    }
  });
});
