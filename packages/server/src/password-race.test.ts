// Password changes racing logins and each other, with real argon2, on the memory, SQLite and
// PostgreSQL stores (PostgreSQL creates a token login's session and refresh token in one
// statement, and reads the account and the cap's list in one).
import { createMemoryStores, createSqliteStores, openStores, type Session, type Stores } from '@tessera/stores';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePostgres } from '../../stores/src/postgres/test-database.js';
import { verifyPassword } from './lib/passwords.js';
import { createTestApp, type TestApp } from './test-app.js';
import {
  bearer,
  type CookieSession,
  cookieLogin,
  expectError,
  json,
  me,
  OTHER_PASSWORD,
  PASSWORD,
  passwordGrant,
  type Registered,
  refreshGrant,
  register,
  sessionLogin,
  type Tokens,
  tokenLogin,
} from './test-helpers.js';

/** Old-password logins per round (half cookie, half token) and rounds per store. */
const LOGINS = 6;
const ROUNDS = 4;

/** A promise with its resolver, opened by the test. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/**
 * Stores whose session writes (`sessions.create`, and `refreshTokens.createWithSession` where the
 * store has it) wait while a gate is set, and that count password-hash reads by email (a login's
 * first step): the test holds logins between verifying the old password and creating their
 * sessions, the window the race lives in.
 */
function instrumented(stores: Stores) {
  const state = { held: null as Promise<void> | null, hashReads: 0, created: [] as Session[] };
  const create = stores.sessions.create.bind(stores.sessions);
  stores.sessions.create = async (session) => {
    if (state.held) await state.held;
    state.created.push(session);
    return create(session);
  };
  const createWithSession = stores.refreshTokens.createWithSession?.bind(stores.refreshTokens);
  if (createWithSession) {
    stores.refreshTokens.createWithSession = async (session, token, sessions) => {
      if (state.held) await state.held;
      const created = await createWithSession(session, token, sessions);
      if (created) state.created.push(session);
      return created;
    };
  }
  const findByEmail = stores.users.findByEmail.bind(stores.users);
  stores.users.findByEmail = async (email) => {
    state.hashReads += 1;
    return findByEmail(email);
  };
  return state;
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const backends: [string, () => Stores][] = [
  ['memory', () => createMemoryStores()],
  ['sqlite', () => createSqliteStores({ path: ':memory:' })],
];

describe.each(backends)('password change racing logins (%s store)', (_name, open) => racingLogins(open));
describePostgres('password change racing logins (postgres store)', (database) => racingLogins(() => openStores(database().url)));

function racingLogins(open: () => Stores | Promise<Stores>): void {
  let t: TestApp;
  let state: ReturnType<typeof instrumented>;
  beforeAll(async () => {
    const stores = await open();
    state = instrumented(stores);
    t = await createTestApp({}, stores);
  });
  afterAll(async () => {
    await t.app.close();
    await t.stores.close();
  });

  // A login with the old password survives a password change: it read the old hash, spent ~20 ms
  // hashing, and created its session after the change had listed and revoked the live ones.
  it('a login with the old password survives a password change: none of its sessions works after the 204', async () => {
    const user = await register(t.app);
    const owner = await cookieLogin(t.app, user);
    let current = user.password;
    let survivors = 0;
    let attempts = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const next = current === PASSWORD ? OTHER_PASSWORD : PASSWORD;
      const held = gate();
      state.held = held.promise;
      state.created = [];
      const readsBefore = state.hashReads;
      const logins = Array.from({ length: LOGINS }, (_, i) =>
        i % 2 === 0 ? sessionLogin(t.app, user.email, current) : passwordGrant(t.app, user.email, current),
      );
      // Every login has read the old hash: its verification is in flight, its session not yet made.
      await until('the logins to read the old hash', () => state.hashReads - readsBefore === LOGINS);
      const change = await t.app.inject({
        method: 'POST',
        url: '/v1/me/password',
        headers: owner.csrfHeaders,
        payload: { current_password: current, new_password: next },
      });
      expect(change.statusCode, change.body).toBe(204);
      state.held = null;
      held.open();
      const answers = await Promise.all(logins);
      attempts += answers.length;
      expect(state.created).toHaveLength(LOGINS);

      for (const [i, res] of answers.entries()) {
        if (i % 2 === 0) {
          if (res.statusCode === 201) {
            const cookie = res.headers['set-cookie'];
            const line = (Array.isArray(cookie) ? cookie : [String(cookie)]).find((c) => c.includes('tessera_session='));
            const works = (await me(t.app, { cookie: String(line).split(';')[0] as string })).statusCode === 200;
            if (works) survivors += 1;
          } else {
            expectError(res, 401, 'invalid_credentials');
          }
        } else if (res.statusCode === 200) {
          const tokens = json<Tokens>(res);
          const works =
            (await me(t.app, bearer(tokens.access_token))).statusCode === 200 ||
            (await refreshGrant(t.app, tokens.refresh_token)).statusCode === 200;
          if (works) survivors += 1;
        } else {
          expectError(res, 400, 'invalid_grant');
        }
      }
      // In the store too: every session the old password made has ended; the owner's stays.
      const live = await t.stores.sessions.listActive(user.id, t.clock.now);
      expect(live.map((s) => s.id)).toEqual([owner.sid]);
      current = next;
    }
    expect({ attempts, survivors }).toEqual({ attempts: ROUNDS * LOGINS, survivors: 0 });
    // The new password still signs in.
    await tokenLogin(t.app, { email: user.email, password: current });
  });
}

describe('concurrent password changes', () => {
  let t: TestApp;
  let user: Registered;
  let tokens: Tokens;
  beforeAll(async () => {
    t = await createTestApp();
    user = await register(t.app);
    tokens = await tokenLogin(t.app, user);
  });

  // Concurrent password changes: several 204s, one winner. Ten changes from one session to ten
  // passwords each verified the current one; every one of them answered 204, one hash stayed.
  it('concurrent password changes: several 204s, one winner — exactly one 204, and its password is the one that works', async () => {
    const candidates = Array.from({ length: 10 }, (_, i) => `a fresh passphrase number ${i} for the race`);
    const answers = await Promise.all(
      candidates.map((new_password) =>
        t.app.inject({
          method: 'POST',
          url: '/v1/me/password',
          headers: bearer(tokens.access_token),
          payload: { current_password: PASSWORD, new_password },
        }),
      ),
    );
    const won = answers.flatMap((res, i) => (res.statusCode === 204 ? [i] : []));
    expect(won).toHaveLength(1);
    const winner = won[0] as number;
    for (const [i, res] of answers.entries()) {
      if (i === winner) continue;
      // Lost the compare-and-set, or verified against the winner's hash, or met the throttle.
      if (res.statusCode === 429) continue;
      const body = expectError(res, 400, 'invalid_grant');
      expect(['the password was changed by another request; sign in again', 'the current password is wrong']).toContain(
        body.error_description,
      );
    }
    const stored = await t.stores.users.findById(user.id);
    const matching: number[] = [];
    for (const [i, candidate] of candidates.entries()) {
      if (await verifyPassword(stored?.passwordHash as string, candidate)) matching.push(i);
    }
    expect(matching).toEqual([winner]);
    await tokenLogin(t.app, { email: user.email, password: candidates[winner] as string });
    expectError(await passwordGrant(t.app, user.email, PASSWORD), 400, 'invalid_grant');
  });

  it('a change that loses the compare-and-set says so, and changes nothing', async () => {
    const other = await register(t.app);
    const session: CookieSession = await cookieLogin(t.app, other);
    // Another request changes the hash between this one's check and its write.
    const updatePassword = t.stores.users.updatePassword.bind(t.stores.users);
    const before = await t.stores.users.findById(other.id);
    t.stores.users.updatePassword = async (id, change, now) => {
      await updatePassword(id, { from: change.from, to: `${change.from}-elsewhere` }, now);
      return updatePassword(id, change, now);
    };
    try {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/me/password',
        headers: session.csrfHeaders,
        payload: { current_password: PASSWORD, new_password: OTHER_PASSWORD },
      });
      expect(expectError(res, 400, 'invalid_grant').error_description).toBe('the password was changed by another request; sign in again');
    } finally {
      t.stores.users.updatePassword = updatePassword;
    }
    expect((await t.stores.users.findById(other.id))?.passwordHash).toBe(`${before?.passwordHash}-elsewhere`);
  });
});
