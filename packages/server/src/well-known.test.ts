import { Buffer } from 'node:buffer';
import { createMemoryStores } from '@tessera/stores';
import { describe, expect, it } from 'vitest';
import { KekMismatchError } from './lib/kek.js';
import { JWKS_MAX_AGE } from './routes/well-known.js';
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
    // Named for what to fix, not AES-GCM's "unable to authenticate data".
    await expect(createTestApp({}, stores)).rejects.toThrow(KekMismatchError);
    await expect(createTestApp({}, stores)).rejects.toThrow(/TESSERA_KEK .*every node/);
  });
});

describe('GET /.well-known/openid-configuration', () => {
  const discovery = async (app: Awaited<ReturnType<typeof createTestApp>>['app']) => {
    const res = await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
    expect(res.statusCode).toBe(200);
    return { res, doc: json(res) };
  };

  // A client library reading discovery must not be misled: no OpenID Connect promise (ID tokens,
  // an authorization endpoint's response types) that this server does not keep.
  it('discovery says only what is true: pinned fields, every endpoint answers, no unsupported feature', async () => {
    const { app } = await createTestApp({ TESSERA_SCOPES: 'read write', TESSERA_RESOURCE_SERVERS: 'rs1:0123456789abcdef' });
    const { res, doc } = await discovery(app);
    expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    expect(Object.keys(doc).sort()).toEqual(
      [
        'issuer',
        'jwks_uri',
        'token_endpoint',
        'introspection_endpoint',
        'revocation_endpoint',
        'userinfo_endpoint',
        'grant_types_supported',
        'scopes_supported',
        'token_endpoint_auth_methods_supported',
        'introspection_endpoint_auth_methods_supported',
        'revocation_endpoint_auth_methods_supported',
        'access_token_signing_alg_values_supported',
        'revocation_feed_endpoint',
      ].sort(),
    );
    expect(doc).toEqual({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      token_endpoint: `${ISSUER}/v1/token`,
      introspection_endpoint: `${ISSUER}/oauth/introspect`,
      revocation_endpoint: `${ISSUER}/oauth/revoke`,
      userinfo_endpoint: `${ISSUER}/v1/me`,
      grant_types_supported: ['password', 'refresh_token'],
      scopes_supported: ['read', 'write'],
      token_endpoint_auth_methods_supported: ['none'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
      revocation_endpoint_auth_methods_supported: ['none'],
      access_token_signing_alg_values_supported: ['ES256'],
      revocation_feed_endpoint: `${ISSUER}/v1/revocations`,
    });
    for (const claim of [
      'id_token_signing_alg_values_supported',
      'response_types_supported',
      'subject_types_supported',
      'authorization_endpoint',
    ]) {
      expect(doc, claim).not.toHaveProperty(claim);
    }
    // Every advertised endpoint exists, by the method a client would use.
    const probes: [string, 'GET' | 'POST'][] = [
      ['jwks_uri', 'GET'],
      ['token_endpoint', 'POST'],
      ['introspection_endpoint', 'POST'],
      ['revocation_endpoint', 'POST'],
      ['userinfo_endpoint', 'GET'],
      ['revocation_feed_endpoint', 'GET'],
    ];
    for (const [key, method] of probes) {
      const path = new URL(doc[key] as string).pathname;
      const probe = await app.inject({ method, url: path, ...(method === 'POST' ? { payload: {} } : {}) });
      expect(probe.statusCode, `${key} ${path}`).not.toBe(404);
    }
    // The grant types listed are the ones the token endpoint takes; any other is refused.
    const user = await register(app);
    const tokens = await tokenLogin(app, user);
    const refreshed = await app.inject({
      method: 'POST',
      url: '/v1/token',
      payload: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
    });
    expect(refreshed.statusCode).toBe(200);
    const other = await app.inject({ method: 'POST', url: '/v1/token', payload: { grant_type: 'client_credentials' } });
    expect(json(other).error).toBe('unsupported_grant_type');
    // The token endpoint asks public clients for no credentials ("none"); introspection takes HTTP Basic.
    const introspected = await app.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { authorization: `Basic ${Buffer.from('rs1:0123456789abcdef').toString('base64')}` },
      payload: { token: tokens.access_token },
    });
    expect(json(introspected).active).toBe(true);
    // The userinfo endpoint answers `sub`, as a userinfo client expects.
    expect(json(await me(app, bearer(tokens.access_token))).sub).toBe(user.id);
    // The algorithm announced is the one tokens carry.
    expect(doc.access_token_signing_alg_values_supported).toEqual([decodeHeader(tokens.access_token).alg]);
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

describe('TESSERA_SIGNING_ALG changed on existing keys', () => {
  type App = Awaited<ReturnType<typeof createTestApp>>['app'];
  const announced = async (app: App) =>
    json<{ access_token_signing_alg_values_supported: string[] }>(
      await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' }),
    ).access_token_signing_alg_values_supported;

  /** Logs in and checks that discovery announces the token's algorithm and the JWKS holds its key. Returns the token. */
  const signedNow = async (app: App, user: { email: string; password: string }) => {
    const token = (await tokenLogin(app, user)).access_token;
    const { alg, kid } = decodeHeader(token);
    expect(await announced(app)).toContain(alg);
    expect((await jwks(app)).keys.map((k) => k.kid)).toContain(kid);
    expect((await me(app, bearer(token))).statusCode).toBe(200);
    return token;
  };

  /** Keys made by an ES256 server a day ago, then the same stores restarted with `env`. */
  async function restartedWith(env: Record<string, string>) {
    const stores = createMemoryStores();
    const first = await createTestApp({}, stores);
    const user = await register(first.app);
    await first.app.close();
    first.clock.advance(86_400_000);
    const second = await createTestApp(env, stores, { kek: first.kek, clock: first.clock });
    return { ...second, user };
  }

  // Discovery said RS256 while tokens stayed ES256: now the new algorithm's key is published
  // first and signs only once every verifier can have fetched it.
  it('algorithm change: the new key is published as next, signs after the JWKS max-age, the old one stays published', async () => {
    const { app, clock, user } = await restartedWith({ TESSERA_SIGNING_ALG: 'RS256' });
    const es256 = await signedNow(app, user);
    expect(decodeHeader(es256).alg).toBe('ES256');
    expect(new Set((await jwks(app)).keys.map((k) => k.alg))).toEqual(new Set(['ES256', 'RS256']));
    expect(await announced(app)).toEqual(['ES256', 'RS256']);

    clock.advance((JWKS_MAX_AGE - 1) * 1000);
    await app.tessera.keys.tick();
    expect(decodeHeader(await signedNow(app, user)).alg).toBe('ES256');

    clock.advance(1000);
    await app.tessera.keys.tick();
    const rs256 = await signedNow(app, user);
    expect(decodeHeader(rs256).alg).toBe('RS256');
    expect(await announced(app)).toEqual(['RS256']);
    // The ES256 keys no longer sign but stay published until their tokens have expired.
    const es256Keys = app.tessera.keys.keySet.list().filter((k) => k.key.alg === 'ES256');
    expect(es256Keys.length).toBeGreaterThan(0);
    for (const k of es256Keys) expect(k.state).toBe('retired');
    expect((await jwks(app)).keys.map((k) => k.kid)).toContain(decodeHeader(es256).kid);
    expect((await me(app, bearer(es256))).statusCode).toBe(200);
    // Once switched, ticks leave the algorithm alone.
    clock.advance(3_600_000);
    await app.tessera.keys.tick();
    expect(decodeHeader(await signedNow(app, user)).kid).toBe(decodeHeader(rs256).kid);
  });

  it('algorithm change with TESSERA_ROTATE_NOW=true signs with the new algorithm at once, and only once', async () => {
    const { app, stores, kek, clock, user } = await restartedWith({ TESSERA_SIGNING_ALG: 'RS256', TESSERA_ROTATE_NOW: 'true' });
    const token = await signedNow(app, user);
    expect(decodeHeader(token).alg).toBe('RS256');
    expect((await jwks(app)).keys.map((k) => k.alg)).toContain('ES256');
    await app.close();
    // Left set, the flag does not rotate again on the next start: the algorithm already matches.
    const again = await createTestApp({ TESSERA_SIGNING_ALG: 'RS256', TESSERA_ROTATE_NOW: 'true' }, stores, { kek, clock });
    expect(decodeHeader(await signedNow(again.app, user)).kid).toBe(decodeHeader(token).kid);
  });
});
