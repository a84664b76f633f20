import { createMemoryStores } from '@tessera/stores';
import { describe, expect, it } from 'vitest';
import { createTestApp } from './test-app.js';
import { bearer, decodeHeader, expectInvalidToken, ISSUER, json, me, register, tokenLogin } from './test-helpers.js';

interface Jwk {
  kty: string;
  kid: string;
  alg: string;
  use: string;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
}

const jwks = async (app: Awaited<ReturnType<typeof createTestApp>>['app']) => {
  const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  expect(res.statusCode).toBe(200);
  return { res, keys: json<{ keys: Jwk[] }>(res).keys };
};

describe('GET /.well-known/jwks.json', () => {
  it('publishes ES256 public keys only, two on first start (current + next), cacheable', async () => {
    const { app } = await createTestApp();
    const { res, keys } = await jwks(app);
    expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    expect(Number(/max-age=(\d+)/.exec(String(res.headers['cache-control']))?.[1])).toBeGreaterThan(0);
    expect(res.headers['content-type']).toMatch(/^application\/jwk-set\+json/);
    expect(keys).toHaveLength(2);
    for (const k of keys) {
      expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(Object.keys(k).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      expect(k).not.toHaveProperty('d');
    }
    expect(new Set(keys.map((k) => k.kid)).size).toBe(2);
    expect(keys.map((k) => k.kid)).toContain(app.tessera.keys.signingKey().kid);
    expect(res.body).not.toMatch(/"d"|"p"|"q"|"dp"|"k"/);
  });

  it('rotates: new tokens carry the new kid, old tokens still verify, the new kid was published before', async () => {
    const { app } = await createTestApp();
    const user = await register(app);
    const before = await tokenLogin(app, user);
    const oldKid = decodeHeader(before.access_token).kid;
    const published = (await jwks(app)).keys.map((k) => k.kid);

    await app.tessera.keys.rotateNow();

    const after = await tokenLogin(app, user);
    const newKid = decodeHeader(after.access_token).kid;
    expect(newKid).not.toBe(oldKid);
    // The key that now signs was already in the JWKS verifiers cached (it was "next").
    expect(published).toContain(newKid);
    expect((await me(app, bearer(before.access_token))).statusCode).toBe(200);
    expect((await me(app, bearer(after.access_token))).statusCode).toBe(200);
    // Retired, current and a fresh next are all published.
    const kids = (await jwks(app)).keys.map((k) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect(kids).toHaveLength(3);
  });

  it('rotates on schedule and drops a retired key once every token it signed has expired', async () => {
    const { app, clock } = await createTestApp({ TESSERA_KEY_ROTATION_INTERVAL: '3600' });
    const user = await register(app);
    const first = await tokenLogin(app, user);
    const oldKid = decodeHeader(first.access_token).kid as string;

    clock.advance(3_599_000);
    await app.tessera.keys.tick();
    const lastOld = (await tokenLogin(app, user)).access_token;
    expect(decodeHeader(lastOld).kid).toBe(oldKid);

    clock.advance(1_000);
    await app.tessera.keys.tick();
    const rotated = await tokenLogin(app, user);
    const newKid = decodeHeader(rotated.access_token).kid as string;
    expect(newKid).not.toBe(oldKid);
    // A token the old key signed a moment ago still verifies: the retired key stays published.
    expect((await me(app, bearer(lastOld))).statusCode).toBe(200);
    expect((await jwks(app)).keys.map((k) => k.kid)).toContain(oldKid);

    // Published until its longest-lived token (600 s + 30 s leeway) has expired, then gone.
    clock.advance(629_000);
    await app.tessera.keys.tick();
    expect((await jwks(app)).keys.map((k) => k.kid)).toContain(oldKid);
    clock.advance(1_000);
    await app.tessera.keys.tick();
    const kids = (await jwks(app)).keys.map((k) => k.kid);
    expect(kids).not.toContain(oldKid);
    expect(kids).toContain(newKid);
    expect(kids).toHaveLength(2);
    expectInvalidToken(await me(app, bearer(lastOld)));
    const fresh = await tokenLogin(app, user);
    expect(decodeHeader(fresh.access_token).kid).toBe(newKid);
    expect((await me(app, bearer(fresh.access_token))).statusCode).toBe(200);
  });

  it('keeps its keys across a restart on the same stores and KEK', async () => {
    const stores = createMemoryStores();
    const first = await createTestApp({}, stores);
    const user = await register(first.app);
    const tokens = await tokenLogin(first.app, user);
    const keysBefore = (await jwks(first.app)).keys;
    await first.app.close();

    const second = await createTestApp({}, stores, { kek: first.kek });
    expect((await jwks(second.app)).keys).toEqual(keysBefore);
    expect(json(await me(second.app, bearer(tokens.access_token)))).toMatchObject({ id: user.id, auth: 'jwt' });
    // It signs with the same current key.
    const again = await tokenLogin(second.app, user);
    expect(decodeHeader(again.access_token).kid).toBe(decodeHeader(tokens.access_token).kid);
    // The refresh token issued before the restart still rotates.
    const refreshed = await second.app.inject({
      method: 'POST',
      url: '/v1/token',
      payload: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
    });
    expect(refreshed.statusCode).toBe(200);
  });

  it('refuses to start with another KEK rather than sign with keys it cannot read', async () => {
    const stores = createMemoryStores();
    await createTestApp({}, stores);
    await expect(createTestApp({}, stores)).rejects.toThrow();
  });
});

describe('GET /.well-known/openid-configuration', () => {
  it('describes the issuer and its endpoints', async () => {
    const { app } = await createTestApp();
    const res = await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    const doc = json(res);
    expect(doc).toMatchObject({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      token_endpoint: `${ISSUER}/v1/token`,
      introspection_endpoint: `${ISSUER}/oauth/introspect`,
      revocation_endpoint: `${ISSUER}/oauth/revoke`,
      grant_types_supported: expect.arrayContaining(['password', 'refresh_token']),
      id_token_signing_alg_values_supported: ['ES256'],
    });
    expect(doc.introspection_endpoint_auth_methods_supported).toEqual(['client_secret_basic']);
    // Every advertised endpoint of ours exists.
    for (const key of ['jwks_uri', 'token_endpoint', 'introspection_endpoint', 'revocation_endpoint', 'userinfo_endpoint']) {
      const path = new URL(doc[key] as string).pathname;
      const method = key === 'jwks_uri' || key === 'userinfo_endpoint' ? 'GET' : 'POST';
      const probe = await app.inject({ method, url: path, payload: method === 'POST' ? {} : undefined });
      expect(probe.statusCode, `${key} ${path}`).not.toBe(404);
    }
  });

  it('follows a configured issuer', async () => {
    const { app } = await createTestApp({ TESSERA_ISSUER: 'https://id.example.com/' });
    const doc = json(await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' }));
    expect(doc.issuer).toBe('https://id.example.com');
    expect(doc.jwks_uri).toBe('https://id.example.com/.well-known/jwks.json');
  });
});

describe('GET /openapi.json', () => {
  it('serves an OpenAPI document listing the /v1 paths', async () => {
    const { app } = await createTestApp();
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(res);
    expect(doc.openapi).toMatch(/^3\./);
    const paths = Object.keys(doc.paths);
    for (const path of [
      '/v1/users',
      '/v1/token',
      '/v1/logout',
      '/v1/sessions',
      '/v1/sessions/current',
      '/v1/sessions/{sid}',
      '/v1/me',
      '/v1/me/password',
      '/v1/revocations',
    ]) {
      expect(paths, path).toContain(path);
    }
    expect(Object.keys(doc.paths['/v1/sessions'] ?? {}).sort()).toEqual(['delete', 'get', 'post']);
    expect(paths).toEqual(expect.arrayContaining(['/.well-known/jwks.json', '/oauth/introspect', '/oauth/revoke', '/healthz']));
  });
});
