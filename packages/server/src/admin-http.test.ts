/**
 * `GET`/`PUT /v1/admin/users/:id/roles` through the real app: who may call them (the admin role
 * as stored now, not as a token claims it), CSRF for cookie changes, the error shapes, and the
 * OpenAPI document.
 */
import { createMemoryStores, openStores, type Stores } from '@tessera/stores';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import {
  bearer,
  type CookieSession,
  cookieLogin,
  decodePayload,
  expectError,
  ISSUER,
  json,
  type Registered,
  register,
  tokenLogin,
} from './test-helpers.js';

const BACKENDS: [string, () => Promise<Stores>][] = [
  ['memory', async () => createMemoryStores()],
  ['sqlite', () => openStores('sqlite::memory:')],
];

const url = (id: string) => `/v1/admin/users/${encodeURIComponent(id)}/roles`;

describe.each(BACKENDS)('admin roles over HTTP on %s', (_name, open) => {
  let t: TestApp;
  let root: Registered;
  let rootToken: string;
  let rootCookie: CookieSession;
  let target: Registered;

  const grant = async (id: string, roles: string[]) => {
    expect(await t.stores.users.changeRoles(id, { set: roles }, t.clock())).not.toBeNull();
  };
  const get = (id: string, headers: Record<string, string>) => t.app.inject({ method: 'GET', url: url(id), headers });
  const put = (id: string, headers: Record<string, string>, payload: unknown) =>
    t.app.inject({ method: 'PUT', url: url(id), headers, payload: payload as object });

  beforeAll(async () => {
    t = await createTestApp({}, await open());
    root = await register(t.app);
    await grant(root.id, ['admin']);
    rootToken = (await tokenLogin(t.app, root)).access_token;
    rootCookie = await cookieLogin(t.app, root);
    target = await register(t.app);
  });
  afterAll(async () => {
    await t?.app.close();
    await t?.stores.close();
  });

  it("an admin reads and replaces a user's roles, by Bearer or by cookie (+ CSRF)", async () => {
    const read = await get(target.id, bearer(rootToken));
    expect(read.statusCode, read.body).toBe(200);
    expect(json(read)).toEqual({ id: target.id, roles: [] });

    const set = await put(target.id, bearer(rootToken), { roles: ['ops', 'billing', 'ops'] });
    expect(set.statusCode, set.body).toBe(200);
    expect(json(set)).toEqual({ id: target.id, roles: ['billing', 'ops'] });
    expect((await t.stores.users.findById(target.id))?.roles).toEqual(['billing', 'ops']);

    expect(json(await get(target.id, rootCookie.cookie))).toEqual({ id: target.id, roles: ['billing', 'ops'] });
    const byCookie = await put(target.id, rootCookie.csrfHeaders, { roles: [] });
    expect(byCookie.statusCode, byCookie.body).toBe(200);
    expect(json(byCookie).roles).toEqual([]);
    // A browser on our own origin vouches by its Origin header instead of the token.
    const byBrowser = await put(target.id, { ...rootCookie.cookie, origin: ISSUER }, { roles: ['ops'] });
    expect(json(byBrowser).roles).toEqual(['ops']);
    // By email too.
    expect(json(await get(target.email, bearer(rootToken))).id).toBe(target.id);
  });

  it('a cookie PUT without the CSRF token or from another site is refused, changing nothing', async () => {
    const before = (await t.stores.users.findById(target.id))?.roles;
    expectError(await put(target.id, rootCookie.cookie, { roles: ['x'] }), 403, 'csrf_token_invalid');
    expectError(await put(target.id, { ...rootCookie.cookie, origin: 'https://evil.example' }, { roles: ['x'] }), 403, 'invalid_origin');
    expect((await t.stores.users.findById(target.id))?.roles).toEqual(before);
  });

  it('401 without credentials; 403 insufficient_role for a user without the admin role', async () => {
    const res = await get(target.id, {});
    expectError(res, 401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expectError(await put(target.id, {}, { roles: [] }), 401);
    const plain = (await tokenLogin(t.app, target)).access_token;
    expectError(await get(target.id, bearer(plain)), 403, 'insufficient_role');
    expectError(await put(target.id, bearer(plain), { roles: ['admin'] }), 403, 'insufficient_role');
    // Nor can a user grant itself the role.
    expect((await t.stores.users.findById(target.id))?.roles).not.toContain('admin');
  });

  // A token's roles claim is up to one access-token lifetime old: the guard reads the store.
  it('403 for a token still claiming admin after the role was revoked; a disabled admin is refused too', async () => {
    const other = await register(t.app);
    await grant(other.id, ['admin']);
    const token = (await tokenLogin(t.app, other)).access_token;
    expect(decodePayload(token).roles).toEqual(['admin']);
    expect((await get(target.id, bearer(token))).statusCode).toBe(200);
    await grant(other.id, []);
    expect(decodePayload(token).roles).toEqual(['admin']);
    expectError(await get(target.id, bearer(token)), 403, 'insufficient_role');
    expectError(await put(target.id, bearer(token), { roles: ['admin'] }), 403, 'insufficient_role');

    await grant(other.id, ['admin']);
    const fresh = (await tokenLogin(t.app, other)).access_token;
    expect(await t.stores.users.setDisabled(other.id, t.clock(), t.clock())).toBe(true);
    expectError(await get(target.id, bearer(fresh)), 403, 'insufficient_role');
  });

  it('404 user_not_found; 400 invalid_role and invalid_request', async () => {
    expectError(await get('no-such-user', bearer(rootToken)), 404, 'user_not_found');
    expectError(await put('nobody@example.com', bearer(rootToken), { roles: [] }), 404, 'user_not_found');
    expectError(await put(target.id, bearer(rootToken), { roles: ['Admin'] }), 400, 'invalid_role');
    const many = Array.from({ length: 33 }, (_, i) => `r${i}`);
    expectError(await put(target.id, bearer(rootToken), { roles: many }), 400, 'invalid_role');
    expectError(await put(target.id, bearer(rootToken), { roles: 'admin' }), 400, 'invalid_request');
    expectError(await put(target.id, bearer(rootToken), { roles: [1] }), 400, 'invalid_request');
    expectError(await put(target.id, bearer(rootToken), {}), 400, 'invalid_request');
    expectError(await put(target.id, bearer(rootToken), { roles: [], extra: 1 }), 400, 'invalid_request');
    expectError(await get('a\u0000b', bearer(rootToken)), 400, 'invalid_request');
    expect((await t.stores.users.findById(target.id))?.roles).not.toContain('Admin');
  });

  it('TESSERA_ADMIN_ROLE names the role the guard asks for', async () => {
    const custom = await createTestApp({ TESSERA_ADMIN_ROLE: 'ops.admin' });
    const someone = await register(custom.app);
    await custom.stores.users.changeRoles(someone.id, { set: ['admin'] }, custom.clock());
    const token = (await tokenLogin(custom.app, someone)).access_token;
    expectError(await custom.app.inject({ method: 'GET', url: url(someone.id), headers: bearer(token) }), 403, 'insufficient_role');
    await custom.stores.users.changeRoles(someone.id, { set: ['ops.admin'] }, custom.clock());
    expect((await custom.app.inject({ method: 'GET', url: url(someone.id), headers: bearer(token) })).statusCode).toBe(200);
    await custom.app.close();
  });
});

describe('admin routes in the OpenAPI document', () => {
  it('lists both operations with who may call them', async () => {
    const t = await createTestApp();
    const doc = json<{ paths: Record<string, Record<string, { security: unknown[]; responses: Record<string, unknown> }>> }>(
      await t.app.inject({ method: 'GET', url: '/openapi.json' }),
    );
    const ops = doc.paths['/v1/admin/users/{id}/roles'];
    expect(ops?.get?.security).toEqual([{ bearer: [] }, { session: [] }]);
    expect(ops?.put?.security).toEqual([{ bearer: [] }, { session: [], csrf: [] }]);
    expect(Object.keys(ops?.get?.responses ?? {})).toEqual(expect.arrayContaining(['200', '401', '403', '404']));
    expect(Object.keys(ops?.put?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404']));
    await t.app.close();
  });
});
