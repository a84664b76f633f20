import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { createTestApp } from './test-app.js';
import { bearer, decodeHeader, json, me, register, tokenLogin } from './test-helpers.js';

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
    expect(config.introspectionClients.get('rs2')).toBe('with:colons:in:secret');
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

  it('accepts a valid 32-byte KEK', () => {
    const kek = Buffer.alloc(32, 7).toString('base64url');
    expect(loadConfig({ TESSERA_KEK: kek }).kek).toBe(kek);
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

  it('never publishes an HS256 secret', async () => {
    const { app } = await createTestApp({ TESSERA_SIGNING_ALG: 'HS256' });
    const user = await register(app);
    const tokens = await tokenLogin(app, user);
    expect((await me(app, bearer(tokens.access_token))).statusCode).toBe(200);
    const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    for (const k of json<{ keys: Record<string, unknown>[] }>(res).keys) expect(k).not.toHaveProperty('k');
  });
});
