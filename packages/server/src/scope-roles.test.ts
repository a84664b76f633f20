/**
 * TESSERA_SCOPE_ROLES: a listed scope is granted only to users holding one of its roles, at login
 * and again at every refresh (with the roles as they are then); any other scope to every user.
 */
import { createMemoryStores, openStores, type Stores } from '@tessera/stores';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { createTestApp, type TestApp } from './test-app.js';
import { bearer, decodePayload, expectError, json, me, type Registered, register, type Tokens } from './test-helpers.js';

const ENV = {
  TESSERA_SCOPES: 'openid profile email offline_access billing:write reports',
  TESSERA_SCOPE_ROLES: 'billing:write=billing|admin, reports=analyst',
};

const BACKENDS: [string, () => Promise<Stores>][] = [
  ['memory', async () => createMemoryStores()],
  ['sqlite', () => openStores('sqlite::memory:')],
];

type Answer = Tokens & { scope?: string };

describe.each(BACKENDS)('scopes and roles on %s', (_name, open) => {
  let t: TestApp;
  const token = (payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/v1/token', payload });
  const login = (u: Registered, scope?: string) =>
    token({ grant_type: 'password', username: u.email, password: u.password, ...(scope !== undefined ? { scope } : {}) });
  const refresh = (refresh_token: string, scope?: string) =>
    token({ grant_type: 'refresh_token', refresh_token, ...(scope !== undefined ? { scope } : {}) });
  const setRoles = async (u: Registered, roles: string[]) => {
    expect(await t.stores.users.changeRoles(u.id, { set: roles }, t.clock())).toEqual([...roles].sort());
  };

  beforeAll(async () => {
    t = await createTestApp(ENV, await open());
  });
  afterAll(async () => {
    await t?.app.close();
    await t?.stores.close();
  });

  it('without the role a listed scope is left out, and the response says which scope was granted', async () => {
    const user = await register(t.app);
    const res = await login(user, 'openid billing:write');
    expect(res.statusCode, res.body).toBe(200);
    const body = json<Answer>(res);
    expect(body.scope).toBe('openid');
    expect(decodePayload(body.access_token).scope).toBe('openid');
    // Asked only for what the roles do not allow: nothing survives.
    expectError(await login(user, 'billing:write reports'), 400, 'invalid_scope');
    // Unlisted scopes go to anyone; no scope asked, none granted.
    expect(json<Answer>(await login(user, 'profile email')).scope).toBe('profile email');
    const bare = json<Answer>(await login(user));
    expect(bare.scope).toBeUndefined();
    expect(decodePayload(bare.access_token).scope).toBeUndefined();
  });

  it('with one of its roles the scope is granted, and the token carries the roles', async () => {
    const user = await register(t.app);
    await setRoles(user, ['admin']);
    const body = json<Answer>(await login(user, 'openid billing:write reports'));
    expect(body.scope).toBe('openid billing:write');
    expect(decodePayload(body.access_token)).toMatchObject({ scope: 'openid billing:write', roles: ['admin'] });
    await setRoles(user, ['analyst', 'billing']);
    expect(json<Answer>(await login(user, 'billing:write reports')).scope).toBe('billing:write reports');
  });

  it('a refresh after the role was revoked drops its scope and carries the current roles', async () => {
    const user = await register(t.app);
    await setRoles(user, ['billing']);
    const first = json<Answer>(await login(user, 'openid billing:write'));
    expect(first.scope).toBe('openid billing:write');
    const kept = json<Answer>(await refresh(first.refresh_token));
    expect(decodePayload(kept.access_token)).toMatchObject({ scope: 'openid billing:write', roles: ['billing'] });

    await setRoles(user, []);
    const dropped = await refresh(kept.refresh_token);
    expect(dropped.statusCode, dropped.body).toBe(200);
    const body = json<Answer>(dropped);
    expect(body.scope).toBe('openid');
    expect(decodePayload(body.access_token).scope).toBe('openid');
    expect(decodePayload(body.access_token).roles).toBeUndefined();
    expect(json(await me(t.app, bearer(body.access_token))).roles).toEqual([]);
    // Asking for it explicitly: refused, and the token is not spent.
    expectError(await refresh(body.refresh_token, 'billing:write'), 400, 'invalid_scope');
    // Granted again: the family's scope comes back, never more than the login was granted.
    await setRoles(user, ['billing', 'analyst']);
    const back = json<Answer>(await refresh(body.refresh_token));
    expect(back.scope).toBe('openid billing:write');
    expectError(await refresh(back.refresh_token, 'reports'), 400, 'invalid_scope');
  });

  it('a scope outside TESSERA_SCOPES is refused as before', async () => {
    const user = await register(t.app);
    expectError(await login(user, 'openid payroll'), 400, 'invalid_scope');
  });
});

describe('TESSERA_SCOPE_ROLES and TESSERA_ADMIN_ROLE', () => {
  it('parse scope=role|role entries', () => {
    const config = loadConfig(ENV);
    expect(config.scopeRoles).toEqual(
      new Map([
        ['billing:write', new Set(['billing', 'admin'])],
        ['reports', new Set(['analyst'])],
      ]),
    );
    expect(loadConfig({}).scopeRoles.size).toBe(0);
    expect(loadConfig({}).adminRole).toBe('admin');
    expect(loadConfig({ TESSERA_ADMIN_ROLE: 'ops:admin' }).adminRole).toBe('ops:admin');
  });

  it.each([
    ['no roles', 'openid='],
    ['no equals sign', 'openid'],
    ['no scope', '=admin'],
    ['an unknown scope', 'payroll=admin'],
    ['an invalid role', 'openid=Admin'],
    ['an empty role', 'openid=admin||ops'],
    ['a scope listed twice', 'openid=a,openid=b'],
  ])('refuse %s, naming TESSERA_SCOPE_ROLES', (_why, value) => {
    expect(() => loadConfig({ TESSERA_SCOPE_ROLES: value })).toThrow(/^TESSERA_SCOPE_ROLES: /);
  });

  it('refuse an invalid admin role, naming TESSERA_ADMIN_ROLE', () => {
    expect(() => loadConfig({ TESSERA_ADMIN_ROLE: 'Not A Role' })).toThrow(/^TESSERA_ADMIN_ROLE: /);
  });
});
