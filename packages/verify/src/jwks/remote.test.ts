import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIssuer, ErrorCodes, importSecret } from '@tessera/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createVerifier, RemoteJwks, type ResourceVerifierOptions } from '../index.js';
import {
  AUDIENCE,
  b64,
  codeOf,
  ISSUER,
  type JwksServer,
  manualClock,
  NOW_MS,
  poll,
  startJwksServer,
  type TestKey,
  testKey,
} from '../test-support.js';

const clock = manualClock();
let k1: TestKey;
let k2: TestKey;
let server: JwksServer;

beforeAll(async () => {
  k1 = await testKey(clock);
  k2 = await testKey(clock);
});

beforeEach(async () => {
  clock.now = NOW_MS;
  server = await startJwksServer([k1.jwk]);
});

afterEach(async () => {
  await server.close();
});

function verifierFor(extra: Partial<ResourceVerifierOptions> = {}) {
  return createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: server.url, clock, ...extra });
}

/** A syntactically valid ES256 token naming a kid nobody published. */
function unknownKidToken(): string {
  return `${b64({ alg: 'ES256', kid: randomUUID(), typ: 'at+jwt' })}.${b64({ sub: 'x' })}.${'A'.repeat(86)}`;
}

describe('RemoteJwks cache time', () => {
  const bounds = { minCacheMs: 5_000, maxCacheMs: 120_000, defaultCacheMs: 30_000 };

  it.each([
    ['public, max-age=60', 60_000],
    ['max-age=1', 5_000],
    ['public, max-age=86400', 120_000],
    ['no-cache', 30_000],
    [null, 30_000],
  ])('Cache-Control %s → cached %i ms', async (cacheControl, ttl) => {
    server.cacheControl = cacheControl;
    const jwks = new RemoteJwks({ url: server.url, clock, ...bounds });
    await jwks.load();
    expect(jwks.status()).toMatchObject({ keys: 1, fetchedAt: NOW_MS, expiresAt: NOW_MS + ttl, stale: false, fetches: 1 });
  });

  it('is not refetched before it expires, and is refetched (once) when it has', async () => {
    server.cacheControl = 'max-age=60';
    const jwks = new RemoteJwks({ url: server.url, clock, ...bounds });
    await jwks.load();
    clock.advance(59_999);
    for (let i = 0; i < 100; i++) expect(jwks.get(k1.key.kid)).toBeDefined();
    expect(jwks.status().fetches).toBe(1);
    clock.advance(1);
    for (let i = 0; i < 100; i++) expect(jwks.get(k1.key.kid)).toBeDefined();
    expect(jwks.status().fetches).toBe(2);
    await jwks.refresh();
    expect(server.requests).toBe(2);
    expect(jwks.status().expiresAt).toBe(clock.now + 60_000);
  });

  it('refuses bad tuning at construction', () => {
    expect(() => new RemoteJwks({ url: server.url, timeoutMs: Number.NaN })).toThrow(/timeoutMs/);
    expect(() => new RemoteJwks({ url: 'jwks.json' })).toThrow(/absolute URL/);
  });
});

describe('unknown kid', () => {
  it('a flood of 1 000 tokens with random kids costs at most one fetch per cooldown', async () => {
    const verifier = verifierFor({ jwks: { cooldownMs: 10_000 } });
    await verifier.ready();
    expect(server.requests).toBe(1);

    const concurrent = await Promise.allSettled(Array.from({ length: 1000 }, () => verifier.verify(unknownKidToken())));
    expect(concurrent.every((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === ErrorCodes.TOKEN_KEY)).toBe(true);
    expect(server.requests).toBe(2);

    for (let i = 0; i < 1000; i++) expect(await codeOf(() => verifier.verify(unknownKidToken()))).toBe(ErrorCodes.TOKEN_KEY);
    clock.advance(9_999);
    for (let i = 0; i < 100; i++) await codeOf(() => verifier.verify(unknownKidToken()));
    expect(server.requests).toBe(2);

    clock.advance(1);
    await Promise.allSettled(Array.from({ length: 1000 }, () => verifier.verify(unknownKidToken())));
    expect(server.requests).toBe(3);
    expect(verifier.jwksStatus()?.fetches).toBe(3);
  });

  it('a token from a newly published key verifies at once, through one refetch', async () => {
    const verifier = verifierFor();
    await verifier.ready();
    expect(await codeOf(() => verifier.verify(k2.issue()))).toBe(ErrorCodes.TOKEN_KEY);
    clock.advance(10_001); // past the cooldown the failed attempt above started
    server.jwks.keys = [k1.jwk, k2.jwk];
    const before = server.requests;
    expect((await verifier.verify(k2.issue({ sub: 'rotated' }))).sub).toBe('rotated');
    expect(server.requests).toBe(before + 1);
    // Known now: no further fetch.
    await verifier.verify(k2.issue());
    expect(server.requests).toBe(before + 1);
  });
});

describe('stale-if-error', () => {
  /** Each outage: how it starts, and how the server comes back. */
  const mode = (m: JwksServer['mode']) => async (s: JwksServer) => {
    s.mode = m;
  };
  const outages: [string, { start(s: JwksServer): Promise<void>; end(s: JwksServer): Promise<void> }][] = [
    ['answers 500', { start: mode('fail'), end: mode('ok') }],
    ['refuses connections', { start: (s) => s.refuse(), end: (s) => s.accept() }],
    ['hangs past timeoutMs', { start: mode('hang'), end: mode('ok') }],
  ];

  it.each(outages)('when the JWKS server %s, valid tokens still verify and status().stale is true', async (_, outage) => {
    server.cacheControl = 'max-age=1';
    const verifier = verifierFor({ jwks: { minCacheMs: 1_000, maxCacheMs: 1_000, timeoutMs: 150 } });
    await verifier.ready();
    await outage.start(server);
    clock.advance(1_001);

    // A fresh token (not in the verified-token cache) needs the key: it is still served.
    expect((await verifier.verify(k1.issue({ sub: 'during-outage' }))).sub).toBe('during-outage');
    await poll(() => verifier.jwksStatus()?.lastError, 'the background refresh to fail');
    expect(verifier.jwksStatus()).toMatchObject({ keys: 1, stale: true });
    expect(verifier.metrics()).toContain('tessera_verify_jwks_stale 1');
    expect((await verifier.verify(k1.issue({ sub: 'still' }))).sub).toBe('still');

    // The failure is not retried on every request...
    const fetches = verifier.jwksStatus()?.fetches;
    for (let i = 0; i < 50; i++) await verifier.verify(k1.issue());
    expect(verifier.jwksStatus()?.fetches).toBe(fetches);

    // ...but after the back-off, and the server back, the set is fresh again.
    await outage.end(server);
    clock.advance(1_000);
    await verifier.verify(k1.issue());
    await poll(() => verifier.jwksStatus()?.lastError === null, 'the refresh to succeed');
    expect(verifier.jwksStatus()).toMatchObject({ stale: false, fetchedAt: clock.now });
  });

  it('a 200 that is not a key set does not wipe the keys', async () => {
    const jwks = new RemoteJwks({ url: server.url, clock });
    await jwks.load();
    (server as { jwks: unknown }).jwks = { error: 'maintenance' };
    expect(await jwks.refresh()).toBe(false);
    expect(jwks.get(k1.key.kid)).toBeDefined();
    expect(jwks.status().lastError).toMatch(/keys/);
  });
});

describe('what a JWKS response may hold', () => {
  it('a malformed entry (key_ops not a list, a bad key) is skipped; the valid keys beside it still serve', async () => {
    server.jwks.keys = [
      k1.jwk,
      { ...k2.jwk, key_ops: 'verify' },
      { ...k2.jwk, kid: 'null-ops', key_ops: null },
      { ...k2.jwk, kid: 'object-ops', key_ops: {} },
      { ...k2.jwk, kid: 'encrypt-only', key_ops: ['encrypt'] },
      { ...k2.jwk, kid: 'ok-ops', key_ops: ['verify'] },
    ];
    const jwks = new RemoteJwks({ url: server.url, clock });
    await jwks.load();
    expect(jwks.status()).toMatchObject({ keys: 2, lastError: null });
    expect(jwks.get(k1.key.kid)).toBeDefined();
    expect(jwks.get('ok-ops')).toBeDefined();
    const verifier = verifierFor();
    expect((await verifier.verify(k1.issue({ sub: 'still-valid' }))).sub).toBe('still-valid');
  });

  it('a response over 1 MiB is refused without being read whole, and the keys held stay', async () => {
    const jwks = new RemoteJwks({ url: server.url, clock });
    await jwks.load();
    server.jwks.keys = [k1.jwk, { kid: 'padding', kty: 'oct', k: 'A'.repeat(1024 * 1024) }];
    expect(await jwks.refresh()).toBe(false);
    expect(jwks.status().lastError).toMatch(/larger than/);
    expect(jwks.get(k1.key.kid)).toBeDefined();
  });

  it('with one kid published twice, the key actually in use is the one compared at the next refresh', async () => {
    const invalid = { ...k1.jwk, kid: 'shared', use: 'enc' };
    server.jwks.keys = [invalid, { ...k1.jwk, kid: 'shared' }];
    const jwks = new RemoteJwks({ url: server.url, clock });
    await jwks.load();
    const first = jwks.get('shared');
    expect(first?.key.equals(k1.key.key)).toBe(true);
    // The usable key behind "shared" is replaced; the invalid first entry stays the same.
    server.jwks.keys = [invalid, { ...k2.jwk, kid: 'shared' }];
    expect(await jwks.refresh()).toBe(true);
    expect(jwks.get('shared')?.key.equals(k2.key.key)).toBe(true);
  });
});

describe('persistence (cacheFile)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-jwks-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a verifier started while the JWKS server is down verifies from the file', async () => {
    const cacheFile = join(dir, 'nested', 'jwks.json');
    const first = verifierFor({ jwks: { cacheFile } });
    await first.ready();
    expect(JSON.parse(await readFile(cacheFile, 'utf8'))).toMatchObject({ fetchedAt: NOW_MS, jwks: { keys: [{ kid: k1.key.kid }] } });

    await server.refuse();
    const restarted = verifierFor({ jwks: { cacheFile } });
    await restarted.ready();
    expect((await restarted.verify(k1.issue({ sub: 'from-file' }))).sub).toBe('from-file');
    expect(restarted.jwksStatus()).toMatchObject({ keys: 1, stale: true, fetchedAt: NOW_MS });

    // Without the file, the same restart has no keys.
    const amnesiac = verifierFor();
    await amnesiac.ready();
    expect(await codeOf(() => amnesiac.verify(k1.issue()))).toBe(ErrorCodes.TOKEN_KEY);
  });

  it('verify() without ready(), the JWKS server down: verifies from the file', async () => {
    const cacheFile = join(dir, 'no-ready.json');
    const first = verifierFor({ jwks: { cacheFile } });
    await first.ready();
    await server.refuse();
    const restarted = verifierFor({ jwks: { cacheFile } });
    expect((await restarted.verify(k1.issue({ sub: 'no-ready' }))).sub).toBe('no-ready');
    expect(restarted.jwksStatus()).toMatchObject({ keys: 1, fetchedAt: NOW_MS });
  });

  it('a corrupt file is ignored, not trusted and not fatal', async () => {
    const cacheFile = join(dir, 'corrupt.json');
    await writeFile(cacheFile, '{"fetchedAt": 1, "jwks": ');
    await server.refuse();
    const verifier = verifierFor({ jwks: { cacheFile } });
    await verifier.ready();
    expect(verifier.jwksStatus()).toMatchObject({ keys: 0 });
  });
});

describe('key identity across refreshes', () => {
  it('an unchanged key keeps its object (and so its verified-token cache entries); a replaced one does not', async () => {
    const jwks = new RemoteJwks({ url: server.url, clock });
    await jwks.load();
    const before = jwks.get(k1.key.kid);
    server.jwks.keys = [{ ...k1.jwk }, k2.jwk];
    expect(await jwks.refresh()).toBe(true);
    expect(jwks.get(k1.key.kid)).toBe(before);

    // Same kid, other key material: a new object, so the verifier's cached entries for the old one die.
    server.jwks.keys = [{ ...k2.jwk, kid: k1.key.kid }];
    expect(await jwks.refresh()).toBe(true);
    expect(jwks.get(k1.key.kid)).not.toBe(before);
  });

  it('a cached token stays valid over an unchanged refresh and dies when its key is replaced', async () => {
    server.cacheControl = 'max-age=1';
    const verifier = verifierFor({ jwks: { minCacheMs: 1_000, maxCacheMs: 1_000 } });
    await verifier.ready();
    const token = k1.issue();
    await verifier.verify(token);

    clock.advance(1_000);
    await verifier.verify(token); // starts the background refresh
    await poll(() => verifier.jwksStatus()?.fetchedAt === clock.now, 'the refresh');
    expect(verifier.jwksStatus()?.fetches).toBe(2);
    expect((await verifier.verify(token)).sub).toBe('user-1');

    // The issuer replaces the key behind the same kid (say, a compromised key re-generated).
    const impostor = createIssuer({ issuer: ISSUER, audience: AUDIENCE, signingKey: { ...k2.key, kid: k1.key.kid }, clock });
    server.jwks.keys = [{ ...k2.jwk, kid: k1.key.kid }];
    clock.advance(1_000);
    await verifier.verify(impostor.issue({ sub: 'x' }).token).catch(() => undefined);
    await poll(() => verifier.jwksStatus()?.fetchedAt === clock.now, 'the refresh');
    expect(await codeOf(() => verifier.verify(token))).toBe(ErrorCodes.TOKEN_SIGNATURE);
    expect((await verifier.verify(impostor.issue({ sub: 'new-key' }).token)).sub).toBe('new-key');
  });
});

describe('what a JWKS may not widen', () => {
  it('keys with an algorithm not allowed, HS256 secrets and keys without alg are ignored', async () => {
    const rsa = await testKey(clock, 'RS256');
    const secret = randomBytes(32);
    const withoutAlg = { ...k2.jwk };
    delete withoutAlg.alg;
    server.jwks.keys = [k1.jwk, rsa.jwk, { kty: 'oct', kid: 'hs', alg: 'HS256', k: secret.toString('base64url') }, withoutAlg];

    const onlyEs = new RemoteJwks({ url: server.url, clock, algorithms: ['ES256'] });
    await onlyEs.load();
    expect(onlyEs.status().keys).toBe(1);
    expect(onlyEs.get(rsa.key.kid)).toBeUndefined();
    expect(onlyEs.get('hs')).toBeUndefined();
    expect(onlyEs.get(k2.key.kid)).toBeUndefined();

    const asymmetric = new RemoteJwks({ url: server.url, clock, algorithms: ['ES256', 'RS256', 'HS256'] });
    await asymmetric.load();
    expect(asymmetric.status().keys).toBe(2);
    expect(asymmetric.get('hs')).toBeUndefined();

    // A verifier that (wrongly) allows HS256 still never takes an HMAC secret from a JWKS: a token
    // "signed" with the published secret is refused.
    const verifier = verifierFor({ algorithms: ['ES256', 'HS256'] });
    await verifier.ready();
    const hs = createIssuer({ issuer: ISSUER, audience: AUDIENCE, signingKey: { ...(await importSecret(secret)), kid: 'hs' }, clock });
    expect(await codeOf(() => verifier.verify(hs.issue({ sub: 'admin' }).token))).toBe(ErrorCodes.TOKEN_KEY);
    // An RS256 token from the published key is refused by a verifier that allows ES256 only.
    const esOnly = verifierFor({ algorithms: ['ES256'] });
    expect(await codeOf(() => esOnly.verify(rsa.issue()))).toBe(ErrorCodes.TOKEN_ALG);
  });
});
