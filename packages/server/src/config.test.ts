import { Buffer } from 'node:buffer';
import { importVerificationJwk } from '@tessera/core';
import { createVerifier } from '@tessera/verify';
import { describe, expect, it } from 'vitest';
import { openAdmin } from './admin/index.js';
import { keysCommand } from './admin/keys-command.js';
import { ConfigError, loadConfig } from './config.js';
import { createTestApp } from './test-app.js';
import { bearer, decodeHeader, ISSUER, json, me, register, tokenLogin } from './test-helpers.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      issuer: 'http://localhost:3000',
      audience: ['http://localhost:3000'],
      databaseUrl: 'sqlite:./data/tessera.db',
      kek: undefined,
      accessTokenTtl: 600,
      refreshGrace: 10,
      signingAlg: 'ES256',
      corsOrigins: [],
      trustProxy: false,
    });
    expect(config.sessionIdleTtl).toBeLessThanOrEqual(config.sessionAbsoluteTtl);
    expect(loadConfig({ PORT: '8080' }).issuer).toBe('http://localhost:8080');
  });

  it('reads lists, durations and proxy settings', () => {
    const config = loadConfig({
      TESSERA_ISSUER: 'https://auth.example.com/',
      TESSERA_AUDIENCE: 'api-a, api-b',
      TESSERA_CORS_ORIGINS: 'https://app.example.com/, http://localhost:5173',
      TESSERA_ACCESS_TOKEN_TTL: '300',
      TESSERA_TRUST_PROXY: '2',
      TESSERA_INTROSPECTION_CLIENTS: 'rs1:0123456789abcdef,rs2:with:colons:in:secret',
    });
    expect(config.issuer).toBe('https://auth.example.com');
    expect(config.audience).toEqual(['api-a', 'api-b']);
    expect(config.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(config.accessTokenTtl).toBe(300);
    expect(config.trustProxy).toBe(2);
    expect(config.resourceServers.get('rs2')).toBe('with:colons:in:secret');
    expect(loadConfig({ TESSERA_TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TESSERA_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1']);
  });

  const invalid: [string, Record<string, string>][] = [
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '-1' }],
    ['TESSERA_ACCESS_TOKEN_TTL', { TESSERA_ACCESS_TOKEN_TTL: '-1' }],
    ['TESSERA_ACCESS_TOKEN_TTL', { TESSERA_ACCESS_TOKEN_TTL: '1.5' }],
    ['TESSERA_ACCESS_TOKEN_TTL', { TESSERA_ACCESS_TOKEN_TTL: '10m' }],
    ['TESSERA_ACCESS_TOKEN_TTL', { TESSERA_ACCESS_TOKEN_TTL: '1' }],
    ['TESSERA_REFRESH_TOKEN_TTL', { TESSERA_REFRESH_TOKEN_TTL: '0' }],
    ['TESSERA_SESSION_IDLE_TTL', { TESSERA_SESSION_IDLE_TTL: 'x' }],
    ['TESSERA_SESSION_IDLE_TTL', { TESSERA_SESSION_IDLE_TTL: '7200', TESSERA_SESSION_ABSOLUTE_TTL: '3600' }],
    ['TESSERA_SESSION_ABSOLUTE_TTL', { TESSERA_SESSION_ABSOLUTE_TTL: '0x10' }],
    ['TESSERA_SIGNING_ALG', { TESSERA_SIGNING_ALG: 'none' }],
    ['TESSERA_SIGNING_ALG', { TESSERA_SIGNING_ALG: 'es256' }],
    ['TESSERA_SIGNING_ALG', { TESSERA_SIGNING_ALG: 'HS512' }],
    ['TESSERA_KEK', { TESSERA_KEK: 'short' }],
    ['TESSERA_KEK', { TESSERA_KEK: 'A'.repeat(44) }],
    ['TESSERA_ISSUER', { TESSERA_ISSUER: 'not-a-url' }],
    ['TESSERA_ISSUER', { TESSERA_ISSUER: 'javascript:alert(1)' }],
    ['TESSERA_ISSUER', { TESSERA_ISSUER: 'ftp://auth.example.com' }],
    ['TESSERA_CORS_ORIGINS', { TESSERA_CORS_ORIGINS: 'https://ok.example, not a url' }],
    ['TESSERA_INTROSPECTION_CLIENTS', { TESSERA_INTROSPECTION_CLIENTS: 'rs1:tooshort' }],
    ['TESSERA_INTROSPECTION_CLIENTS', { TESSERA_INTROSPECTION_CLIENTS: ':0123456789abcdef' }],
    ['TESSERA_KEY_ROTATION_INTERVAL', { TESSERA_KEY_ROTATION_INTERVAL: '60' }],
    ['TESSERA_REDIS_URL', { TESSERA_REDIS_URL: 'http://localhost:6379' }],
    ['TESSERA_SIGNING_ALG', { TESSERA_SIGNING_ALG: 'HS256' }],
    ['TESSERA_SIGNING_ALG', { TESSERA_SIGNING_ALG: 'HS256', TESSERA_ALLOW_SHARED_SECRET: 'false' }],
    ['TESSERA_ALLOW_SHARED_SECRET', { TESSERA_SIGNING_ALG: 'HS256', TESSERA_ALLOW_SHARED_SECRET: 'yes please' }],
    ['TESSERA_ROTATE_NOW', { TESSERA_ROTATE_NOW: 'soon' }],
    ['TESSERA_TRUST_PROXY', { TESSERA_TRUST_PROXY: 'bogus' }],
    ['TESSERA_TRUST_PROXY', { TESSERA_TRUST_PROXY: '10.0.0.0/8, proxy.internal' }],
    ['TESSERA_TRUST_PROXY', { TESSERA_TRUST_PROXY: '10.0.0.0/33' }],
    ['TESSERA_TRUST_PROXY', { TESSERA_TRUST_PROXY: '::1/129' }],
    ['TESSERA_TRUST_PROXY', { TESSERA_TRUST_PROXY: '10.0.0.0/' }],
    ['TESSERA_TRUST_PROXY', { TESSERA_TRUST_PROXY: '10.0.0.256' }],
    ['TESSERA_TRUST_PROXY', { TESSERA_TRUST_PROXY: '-1' }],
    ['TESSERA_TRUST_PROXY', { TESSERA_TRUST_PROXY: '1000' }],
  ];

  it.each(invalid)('throws ConfigError naming %s for %j', (variable, env) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message.startsWith(`${variable}:`)).toBe(true);
  });

  it('does not echo secret values in its errors', () => {
    const kek = 'c2VjcmV0LWtlay12YWx1ZQ';
    expect(() => loadConfig({ TESSERA_KEK: kek })).toThrow(ConfigError);
    expect(() => loadConfig({ TESSERA_KEK: kek })).not.toThrow(kek);
    const pair = 'rs1:leaky-secret';
    expect(() => loadConfig({ TESSERA_INTROSPECTION_CLIENTS: pair })).not.toThrow('leaky-secret');
  });

  // Fastify's own check said only "invalid IP address", naming no variable.
  it('TESSERA_TRUST_PROXY accepts hop counts, true/false, and lists of addresses, CIDRs and proxy-addr ranges', () => {
    expect(loadConfig({ TESSERA_TRUST_PROXY: '0' }).trustProxy).toBe(0);
    expect(loadConfig({ TESSERA_TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TESSERA_TRUST_PROXY: ' 192.168.0.0/16,fd00::/8 , ::1, loopback' }).trustProxy).toEqual([
      '192.168.0.0/16',
      'fd00::/8',
      '::1',
      'loopback',
    ]);
  });

  it('accepts a valid 32-byte KEK', () => {
    const kek = Buffer.alloc(32, 7).toString('base64url');
    expect(loadConfig({ TESSERA_KEK: kek }).kek).toBe(kek);
  });

  // A PostgreSQL node without a KEK sealed its signing keys with a random one: every later start failed.
  it('requires TESSERA_KEK with a PostgreSQL database, naming it', () => {
    const postgres = { TESSERA_DATABASE_URL: 'postgres://tessera@db/tessera' };
    expect(() => loadConfig(postgres)).toThrow(/^TESSERA_KEK: .*every node/);
    expect(loadConfig({ ...postgres, TESSERA_KEK: Buffer.alloc(32, 7).toString('base64url') }).databaseUrl).toBe(
      postgres.TESSERA_DATABASE_URL,
    );
  });
});

describe('signing algorithms', () => {
  it.each(['EdDSA', 'RS256', 'PS256'] as const)('issues and verifies %s tokens, publishing only public keys', async (alg) => {
    const { app } = await createTestApp({ TESSERA_SIGNING_ALG: alg });
    const user = await register(app);
    const tokens = await tokenLogin(app, user);
    expect(decodeHeader(tokens.access_token).alg).toBe(alg);
    expect((await me(app, bearer(tokens.access_token))).statusCode).toBe(200);
    const jwks = json<{ keys: Record<string, unknown>[] }>(await app.inject({ method: 'GET', url: '/.well-known/jwks.json' }));
    for (const k of jwks.keys) {
      expect(k.alg).toBe(alg);
      for (const privateMember of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(k).not.toHaveProperty(privateMember);
    }
  });

  // HS256 publishes an empty JWKS, so every service verifying from it would refuse every token.
  it('HS256 without TESSERA_ALLOW_SHARED_SECRET is refused at start, naming TESSERA_SIGNING_ALG', async () => {
    expect(() => loadConfig({ TESSERA_SIGNING_ALG: 'HS256' })).toThrow(/^TESSERA_SIGNING_ALG: .*TESSERA_ALLOW_SHARED_SECRET=true/);
    await expect(createTestApp({ TESSERA_SIGNING_ALG: 'HS256' })).rejects.toThrow(ConfigError);
    expect(loadConfig({ TESSERA_SIGNING_ALG: 'HS256', TESSERA_ALLOW_SHARED_SECRET: 'true' })).toMatchObject({
      signingAlg: 'HS256',
      allowSharedSecret: true,
    });
  });

  it('HS256 acknowledged: `keys export-secret` hands a service the secret that verifies the tokens', async () => {
    const { app, stores, kek, clock } = await createTestApp({ TESSERA_SIGNING_ALG: 'HS256', TESSERA_ALLOW_SHARED_SECRET: 'true' });
    const user = await register(app);
    const token = (await tokenLogin(app, user)).access_token;
    const lines: string[] = [];
    const config = loadConfig({ TESSERA_SIGNING_ALG: 'HS256', TESSERA_ALLOW_SHARED_SECRET: 'true', TESSERA_ISSUER: ISSUER });
    expect(await keysCommand(['export-secret'], await openAdmin({ config, stores, kek }), (line) => lines.push(line))).toBe(0);
    const { keys } = JSON.parse(lines.join('')) as { keys: Parameters<typeof importVerificationJwk>[0][] };
    expect(keys.map((k) => k.kid)).toContain(decodeHeader(token).kid);
    for (const k of keys) expect(k).toMatchObject({ kty: 'oct', alg: 'HS256' });
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: ISSUER,
      keys: await Promise.all(keys.map((jwk) => importVerificationJwk(jwk))),
      algorithms: ['HS256'],
      clock,
    });
    expect((await verifier.verify(token)).sub).toBe(user.id);
    // An asymmetric issuer has no secret to export: services use its JWKS.
    const es = await createTestApp();
    const out: string[] = [];
    expect(
      await keysCommand(['export-secret'], await openAdmin({ config: loadConfig({}), stores: es.stores, kek: es.kek }), (line) =>
        out.push(line),
      ),
    ).toBe(1);
    expect(out.join('\n')).toMatch(/jwks\.json/);
  });

  it('never publishes an HS256 secret', async () => {
    const { app } = await createTestApp({ TESSERA_SIGNING_ALG: 'HS256', TESSERA_ALLOW_SHARED_SECRET: 'true' });
    const user = await register(app);
    const tokens = await tokenLogin(app, user);
    expect((await me(app, bearer(tokens.access_token))).statusCode).toBe(200);
    const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    for (const k of json<{ keys: Record<string, unknown>[] }>(res).keys) expect(k).not.toHaveProperty('k');
  });
});

// TESSERA_WORKERS=4 on memory: gave each worker users, sessions and keys of its own, so half the
// logins with the right password failed at random.
describe('TESSERA_WORKERS with a database the processes cannot share', () => {
  it.each(['memory:', 'sqlite::memory:'])('workers above 1 on %s are refused, naming TESSERA_WORKERS', (url) => {
    expect(() => loadConfig({ TESSERA_WORKERS: '2', TESSERA_DATABASE_URL: url })).toThrow(/^TESSERA_WORKERS: /);
    expect(() => loadConfig({ TESSERA_WORKERS: '1', TESSERA_DATABASE_URL: url })).not.toThrow();
    expect(() => loadConfig({ TESSERA_WORKERS: '2', TESSERA_DATABASE_URL: 'sqlite:./data/x.db' })).not.toThrow();
  });
});

// TESSERA_SESSION_STORE=redis over SQLite answered 500 to every token login: SQLite's refresh-token
// table references its (then empty) sessions table.
describe('TESSERA_SESSION_STORE=redis over SQLite', () => {
  it('is refused at start, naming TESSERA_SESSION_STORE', () => {
    const env = { TESSERA_REDIS_URL: 'redis://127.0.0.1:6379', TESSERA_SESSION_STORE: 'redis' };
    expect(() => loadConfig({ ...env, TESSERA_DATABASE_URL: 'sqlite:./data/x.db' })).toThrow(/^TESSERA_SESSION_STORE: /);
    expect(() =>
      loadConfig({ ...env, TESSERA_DATABASE_URL: 'postgres://db/x', TESSERA_KEK: Buffer.alloc(32).toString('base64url') }),
    ).not.toThrow();
  });
});
