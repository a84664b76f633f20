/**
 * The admin API (`@tessera/server/admin`) against a running server's stores, on memory and
 * SQLite: what it changes is what the HTTP API then answers, and what it revokes, running nodes
 * honour from the revocation events it writes.
 */
import { importVerificationJwk } from '@tessera/core';
import { createMemoryStores, openStores, type Stores } from '@tessera/stores';
import { createVerifier } from '@tessera/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { syncRevocations } from '../lib/revoke.js';
import { createTestApp, type TestApp } from '../test-app.js';
import {
  bearer,
  cookieLogin,
  decodeHeader,
  expectError,
  expectInvalidToken,
  ISSUER,
  json,
  me,
  PASSWORD,
  passwordGrant,
  refreshGrant,
  register,
  sessionLogin,
  tokenLogin,
  uniqueEmail,
} from '../test-helpers.js';
import { type Admin, AdminError, openAdmin } from './index.js';
import { keysCommand } from './keys-command.js';

const BACKENDS: [string, () => Promise<Stores>][] = [
  ['memory', async () => createMemoryStores()],
  ['sqlite', () => openStores('sqlite::memory:')],
];

/** Rejects with an AdminError of `code`. */
async function refusedWith(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AdminError);
  expect((err as AdminError).code).toBe(code);
}

describe.each(BACKENDS)('the admin API on %s', (_name, open) => {
  let t: TestApp;
  let admin: Admin;
  /** The server node hears the events written to the store (its poll, done here by hand). */
  const hear = () =>
    syncRevocations({ stores: t.stores, clock: t.clock, revocations: t.app.tessera.revocations, bus: t.app.tessera.bus }, null);

  beforeAll(async () => {
    t = await createTestApp({}, await open());
    admin = await openAdmin({ config: t.app.tessera.config, stores: t.stores, kek: t.kek, clock: t.clock });
  });
  afterAll(async () => {
    await admin?.close();
    await t?.app.close();
    await t?.stores.close();
  });

  describe('users', () => {
    it('add: the sign-up policy (email normalised, password strength), roles, and the account signs in', async () => {
      const email = uniqueEmail('Added');
      const user = await admin.users.add({
        email: `  ${email.toUpperCase()} `,
        password: PASSWORD,
        name: ' Ada ',
        roles: ['ops', 'admin', 'ops'],
      });
      expect(user).toMatchObject({ email: email.toLowerCase(), name: 'Ada', roles: ['admin', 'ops'], disabled: false, disabledAt: null });
      expect(user).not.toHaveProperty('passwordHash');
      expect(new Date(user.createdAt).getTime()).toBe(t.clock.now);
      const tokens = await tokenLogin(t.app, { email, password: PASSWORD });
      expect(json(await me(t.app, bearer(tokens.access_token)))).toMatchObject({ id: user.id, roles: ['admin', 'ops'] });

      await refusedWith(admin.users.add({ email: uniqueEmail(), password: 'short' }), 'weak_password');
      await refusedWith(admin.users.add({ email: uniqueEmail(), password: 'password1234' }), 'weak_password');
      await refusedWith(admin.users.add({ email: 'not an email', password: PASSWORD }), 'invalid_request');
      await refusedWith(admin.users.add({ email, password: PASSWORD }), 'email_taken');
      await refusedWith(admin.users.add({ email: uniqueEmail(), password: PASSWORD, roles: ['Admin'] }), 'invalid_role');
    });

    it('list: ordered by email, paged by `next` until null', async () => {
      for (let i = 0; i < 5; i++) await admin.users.add({ email: uniqueEmail('zz-list'), password: PASSWORD });
      const seen: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 100; pages++) {
        const page = await admin.users.list({ limit: 2, ...(after ? { after } : {}) });
        expect(page.users.length).toBeLessThanOrEqual(2);
        seen.push(...page.users.map((u) => u.email));
        if (page.next === null) break;
        after = page.next;
      }
      expect(seen).toEqual([...seen].sort());
      expect(new Set(seen).size).toBe(seen.length);
      const all = await admin.users.list({ limit: 500 });
      expect(all.next).toBeNull();
      expect(all.users.map((u) => u.email)).toEqual(seen);
      await refusedWith(admin.users.list({ limit: 0 }), 'invalid_request');
      await refusedWith(admin.users.list({ limit: 501 }), 'invalid_request');
    });

    it('show: by id or by email (any case), with its live sessions; unknown is user_not_found', async () => {
      const user = await register(t.app);
      await tokenLogin(t.app, user);
      await cookieLogin(t.app, user);
      const byId = await admin.users.show(user.id);
      expect(byId).toMatchObject({ id: user.id, email: user.email, sessions: 2, disabled: false });
      expect(await admin.users.show(user.email.toUpperCase())).toEqual(byId);
      await refusedWith(admin.users.show('nobody@example.com'), 'user_not_found');
      await refusedWith(admin.users.show('no-such-id'), 'user_not_found');
      await refusedWith(admin.users.show(''), 'invalid_request');
      await refusedWith(admin.users.show('a\u0000b'), 'invalid_request');
    });

    it('disable: every session revoked with an event the node honours; no login either way; enable lets it sign in again', async () => {
      const user = await register(t.app);
      const tokens = await tokenLogin(t.app, user);
      const cookie = await cookieLogin(t.app, user);
      t.clock.advance(1000);
      const disabled = await admin.users.disable(user.email);
      expect(disabled).toMatchObject({ disabled: true, disabledAt: new Date(t.clock.now).toISOString() });
      await hear();
      expectInvalidToken(await me(t.app, bearer(tokens.access_token)));
      expect((await me(t.app, cookie.cookie)).statusCode).toBe(401);
      expectError(await refreshGrant(t.app, tokens.refresh_token), 400, 'invalid_grant');
      expect((await admin.users.show(user.id)).sessions).toBe(0);
      expect(json(await passwordGrant(t.app, user.email, user.password))).toEqual({
        error: 'invalid_grant',
        error_description: 'account is disabled',
      });
      expectError(await sessionLogin(t.app, user.email, user.password), 403, 'account_disabled');
      // Disabling again keeps the first time.
      t.clock.advance(1000);
      expect((await admin.users.disable(user.id)).disabledAt).toBe(disabled.disabledAt);

      expect(await admin.users.enable(user.id)).toMatchObject({ disabled: false, disabledAt: null });
      expect((await me(t.app, bearer((await tokenLogin(t.app, user)).access_token))).statusCode).toBe(200);
      await refusedWith(admin.users.disable('nobody@example.com'), 'user_not_found');
    });

    it("delete: the user's tokens are refused from the revocation event on; its email can be registered again", async () => {
      const user = await register(t.app);
      const tokens = await tokenLogin(t.app, user);
      expect((await me(t.app, bearer(tokens.access_token))).statusCode).toBe(200);
      t.clock.advance(1000);
      await admin.users.delete(user.email);
      await hear();
      expectInvalidToken(await me(t.app, bearer(tokens.access_token)));
      expectError(await refreshGrant(t.app, tokens.refresh_token), 400, 'invalid_grant');
      await refusedWith(admin.users.show(user.id), 'user_not_found');
      await refusedWith(admin.users.delete(user.id), 'user_not_found');
      const again = await register(t.app, user.email);
      expect(again.id).not.toBe(user.id);
      expect((await me(t.app, bearer((await tokenLogin(t.app, again)).access_token))).statusCode).toBe(200);
    });

    // A login landing between delete's revocation of the sessions and the row's deletion: its
    // session was not listed, and deleting the row leaves no event for its access token.
    it('delete: a login racing it gets no token that outlives the account', async () => {
      const user = await register(t.app);
      const users = t.stores.users;
      const remove = users.delete;
      let racing: Awaited<ReturnType<typeof passwordGrant>> | undefined;
      users.delete = async (id) => {
        racing = await passwordGrant(t.app, user.email, user.password);
        return remove.call(users, id);
      };
      try {
        await admin.users.delete(user.id);
      } finally {
        users.delete = remove;
      }
      await hear();
      const answer = racing as NonNullable<typeof racing>;
      if (answer.statusCode === 200) expectInvalidToken(await me(t.app, bearer(json<{ access_token: string }>(answer).access_token)));
      else expectError(answer, 400, 'invalid_grant');
    });
  });

  describe('roles', () => {
    it('grant, revoke and set return the roles after the change, sorted and unique; tokens issued after carry them', async () => {
      const user = await register(t.app);
      expect(await admin.roles.grant(user.email, 'ops')).toEqual(['ops']);
      expect(await admin.roles.grant(user.id, 'billing')).toEqual(['billing', 'ops']);
      expect(await admin.roles.grant(user.id, 'ops')).toEqual(['billing', 'ops']);
      expect(await admin.roles.revoke(user.id, 'ops')).toEqual(['billing']);
      expect(await admin.roles.revoke(user.id, 'never-held')).toEqual(['billing']);
      expect(await admin.roles.set(user.id, ['z.role', 'a:b', 'a:b'])).toEqual(['a:b', 'z.role']);
      expect((await admin.users.show(user.id)).roles).toEqual(['a:b', 'z.role']);
      const tokens = await tokenLogin(t.app, user);
      expect(json(await me(t.app, bearer(tokens.access_token))).roles).toEqual(['a:b', 'z.role']);
      expect(await admin.roles.set(user.id, [])).toEqual([]);
    });

    it('refuses invalid role names and more than 32 roles (invalid_role), and unknown users', async () => {
      const user = await register(t.app);
      for (const bad of ['', 'Admin', '1role', 'has space', 'a|b', 'a=b', 'x'.repeat(65), 'rôle']) {
        await refusedWith(admin.roles.grant(user.id, bad), 'invalid_role');
      }
      const many = Array.from({ length: 33 }, (_, i) => `r${i}`);
      await refusedWith(admin.roles.set(user.id, many), 'invalid_role');
      expect(await admin.roles.set(user.id, many.slice(0, 32))).toHaveLength(32);
      await refusedWith(admin.roles.grant(user.id, 'one-more'), 'invalid_role');
      await refusedWith(admin.roles.grant('nobody@example.com', 'ops'), 'user_not_found');
      await refusedWith(admin.roles.set('nobody@example.com', ['ops']), 'user_not_found');
    });
  });

  describe('sessions', () => {
    it("list: one user's, or every user's, newest first, with both kinds", async () => {
      const a = await register(t.app);
      const b = await register(t.app);
      await tokenLogin(t.app, a);
      t.clock.advance(1000);
      const cookie = await cookieLogin(t.app, b);
      t.clock.advance(1000);
      const ofA = await admin.sessions.list({ user: a.email });
      expect(ofA).toHaveLength(1);
      expect(ofA[0]).toMatchObject({ userId: a.id, email: a.email, kind: 'token' });
      const all = await admin.sessions.list();
      const ids = all.map((s) => s.id);
      expect(ids).toContain(ofA[0]?.id);
      expect(ids).toContain(cookie.sid);
      expect(ids.indexOf(cookie.sid)).toBeLessThan(ids.indexOf(ofA[0]?.id as string));
      const times = all.map((s) => new Date(s.createdAt).getTime());
      expect(times).toEqual([...times].sort((x, y) => y - x));
      await refusedWith(admin.sessions.list({ user: 'nobody@example.com' }), 'user_not_found');
    });

    it('revoke ends one session with its event; revokeUser ends all and counts them', async () => {
      const user = await register(t.app);
      const one = await tokenLogin(t.app, user);
      const two = await tokenLogin(t.app, user);
      const cookie = await cookieLogin(t.app, user);
      t.clock.advance(1000);
      const sid = t.app.tessera.verifier.verify(one.access_token).sid as string;
      await admin.sessions.revoke(sid);
      await hear();
      expectInvalidToken(await me(t.app, bearer(one.access_token)));
      expect((await me(t.app, bearer(two.access_token))).statusCode).toBe(200);
      await refusedWith(admin.sessions.revoke(sid), 'session_not_found');
      await refusedWith(admin.sessions.revoke('no-such-session'), 'session_not_found');
      await refusedWith(admin.sessions.revoke('../../etc'), 'session_not_found');

      expect(await admin.sessions.revokeUser(user.email)).toBe(2);
      await hear();
      expectInvalidToken(await me(t.app, bearer(two.access_token)));
      expect((await me(t.app, cookie.cookie)).statusCode).toBe(401);
      expect(await admin.sessions.list({ user: user.id })).toEqual([]);
      expect(await admin.sessions.revokeUser(user.id)).toBe(0);
    });
  });

  describe('keys', () => {
    it('list and rotate: the next key signs after a rotation, and the server signs with it at its next key tick', async () => {
      const before = await admin.keys.list();
      const current = before.find((k) => k.state === 'current');
      const next = before.find((k) => k.state === 'next');
      expect(current?.alg).toBe('ES256');
      expect(next).toBeDefined();
      const after = await admin.keys.rotate();
      expect(after.find((k) => k.state === 'current')?.kid).toBe(next?.kid);
      expect(after.find((k) => k.kid === current?.kid)?.state).toBe('retired');
      expect(after.find((k) => k.state === 'next')?.kid).not.toBe(next?.kid);
      await t.app.tessera.keys.tick();
      const tokens = await tokenLogin(t.app, await register(t.app));
      expect(decodeHeader(tokens.access_token).kid).toBe(next?.kid);
    });

    it('exportPublic is the JWKS the server serves; exportSecret is refused without HS256 keys', async () => {
      await t.app.tessera.keys.tick();
      const served = json(await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' }));
      expect(await admin.keys.exportPublic()).toEqual(served);
      for (const k of (await admin.keys.exportPublic()).keys) expect(k).not.toHaveProperty('d');
      await refusedWith(admin.keys.exportSecret(), 'no_shared_secret');
    });
  });
});

describe('the admin API with HS256 keys', () => {
  it('exportSecret hands a service the secrets that verify the tokens; `keys export` prints the (empty) JWKS', async () => {
    const env = { TESSERA_SIGNING_ALG: 'HS256', TESSERA_ALLOW_SHARED_SECRET: 'true' };
    const t = await createTestApp(env);
    const admin = await openAdmin({ config: loadConfig({ ...env, TESSERA_ISSUER: ISSUER }), stores: t.stores, kek: t.kek, clock: t.clock });
    const user = await register(t.app);
    const token = (await tokenLogin(t.app, user)).access_token;
    const { keys } = (await admin.keys.exportSecret()) as { keys: Parameters<typeof importVerificationJwk>[0][] };
    expect(keys.map((k) => k.kid)).toContain(decodeHeader(token).kid);
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: ISSUER,
      keys: await Promise.all(keys.map((jwk) => importVerificationJwk(jwk))),
      algorithms: ['HS256'],
      clock: t.clock,
    });
    expect((await verifier.verify(token)).sub).toBe(user.id);
    const out: string[] = [];
    expect(await keysCommand(['export'], admin, (line) => out.push(line))).toBe(0);
    expect(JSON.parse(out.join(''))).toEqual({ keys: [] });
    expect(await keysCommand(['nonsense'], admin, (line) => out.push(line))).toBe(2);
    await admin.close();
    await t.app.close();
  });
});

describe('openAdmin({ env })', () => {
  it('opens the stores the environment names, as the server does, and closes them', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'tessera-admin-'));
    try {
      const env = { TESSERA_DATABASE_URL: `sqlite:${join(dir, 'tessera.db')}` };
      const first = await openAdmin({ env });
      const added = await first.users.add({ email: uniqueEmail(), password: PASSWORD, roles: ['admin'] });
      const keys = await first.keys.list();
      await first.close();
      // Another process, the same database and data dir (and so the same KEK file): it sees both.
      const second = await openAdmin({ env });
      expect((await second.users.show(added.email)).roles).toEqual(['admin']);
      expect((await second.keys.list()).map((k) => k.kid)).toEqual(keys.map((k) => k.kid));
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('throws ConfigError naming the variable for a bad setting', async () => {
    await expect(openAdmin({ env: { TESSERA_SCOPE_ROLES: 'nope' } })).rejects.toThrow(/^TESSERA_SCOPE_ROLES: /);
    await expect(openAdmin({ env: { TESSERA_ACCESS_TOKEN_TTL: 'soon' } })).rejects.toMatchObject({ name: 'ConfigError' });
  });
});
