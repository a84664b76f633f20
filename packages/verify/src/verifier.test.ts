import { createHmac, createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createIssuer, ErrorCodes, OptionError } from '@tessera/core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createVerifier, type ResourceVerifierOptions } from './index.js';
import { AUDIENCE, b64, codeOf, ISSUER, manualClock, NOW_MS, type TestKey, testKey } from './test-support.js';

const JWKS_URI = `${ISSUER}/.well-known/jwks.json`;

/** A fetch that must never be called: construction does no I/O. */
const noFetch = vi.fn<typeof fetch>(async () => {
  throw new Error('fetch must not be called at construction');
});

function expectOptionError(options: unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    createVerifier(options as ResourceVerifierOptions);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(OptionError);
  expect((thrown as OptionError).code).toBe(ErrorCodes.INVALID_OPTION);
  expect((thrown as OptionError).message).toMatch(message);
}

describe('createVerifier: options are validated at construction, not at the first verify', () => {
  const base = { issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, jwks: { fetch: noFetch } };

  it('refuses a missing or empty issuer', () => {
    expectOptionError({ ...base, issuer: undefined }, /issuer/);
    expectOptionError({ ...base, issuer: '' }, /issuer/);
    expectOptionError(undefined, /options/);
  });

  it('refuses a missing or empty audience', () => {
    expectOptionError({ ...base, audience: undefined }, /audience/);
    expectOptionError({ ...base, audience: '' }, /audience/);
    expectOptionError({ ...base, audience: [] }, /audience/);
  });

  it('refuses neither, or both, of jwksUri and keys', () => {
    expectOptionError({ issuer: ISSUER, audience: AUDIENCE }, /exactly one of "jwksUri" and "keys"/);
    expectOptionError({ ...base, keys: new Map() }, /exactly one of "jwksUri" and "keys"/);
    expectOptionError({ issuer: ISSUER, audience: AUDIENCE, keys: null }, /exactly one/);
  });

  it('refuses a jwksUri that is not an absolute http(s) URL', () => {
    for (const jwksUri of ['not a url', '/.well-known/jwks.json', 'ftp://auth.example/jwks.json', 'file:///etc/passwd']) {
      expectOptionError({ ...base, jwksUri }, /jwksUri/);
    }
    expectOptionError({ ...base, jwksUri: 42 }, /jwksUri/);
  });

  it('refuses bad tuning: leeway, algorithms, JWKS bounds, revocation feed', () => {
    expectOptionError({ ...base, leeway: 301 }, /leeway/);
    expectOptionError({ ...base, algorithms: [] }, /algorithms/);
    expectOptionError({ ...base, jwks: { cooldownMs: -1 } }, /cooldownMs/);
    expectOptionError({ ...base, revocations: { source: 'redis' } }, /redis/);
    expectOptionError({ ...base, revocations: { source: 'kafka' } }, /source/);
    expectOptionError({ ...base, revocations: { failMode: 'sideways' } }, /failMode/);
    expectOptionError({ ...base, revocations: { maxOutageMs: Number.NaN } }, /maxOutageMs/);
    expectOptionError({ ...base, issuer: 'auth-server', revocations: true }, /issuer/);
  });

  it('refuses fixed keys that cannot serve their algorithm, and a JWKS verifier allowed only HS256', () => {
    const fixed = { issuer: ISSUER, audience: AUDIENCE };
    const secret = (bytes: number) => createSecretKey(randomBytes(bytes));
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
    expectOptionError({ ...fixed, keys: [{ kid: 'short', alg: 'HS256', key: secret(3) }] }, /short.*at least 32 bytes/);
    expectOptionError({ ...fixed, keys: [{ kid: 'small', alg: 'RS256', key: rsa1024 }] }, /small.*2048/);
    expectOptionError({ ...fixed, keys: [{ kid: 'pub-as-hmac', alg: 'HS256', key: ec }] }, /pub-as-hmac.*secret/);
    expectOptionError({ ...fixed, keys: [{ kid: 'wrong-curve', alg: 'EdDSA', key: ec }] }, /wrong-curve.*Ed25519/);
    expectOptionError({ ...fixed, keys: [{ kid: 'no-alg', alg: 'none', key: ec }] }, /no-alg.*alg/);
    expectOptionError({ ...fixed, keys: [{ kid: 'pem', alg: 'ES256', key: '-----BEGIN PUBLIC KEY-----' }] }, /pem.*KeyObject/);
    expectOptionError({ ...fixed, keys: [{ alg: 'ES256', key: ec }] }, /kid/);
    expectOptionError({ ...fixed, keys: new Map([['other', { kid: 'k', alg: 'ES256', key: ec }]]) }, /maps "other"/);
    expectOptionError({ ...base, algorithms: ['HS256'] }, /HS256.*JWKS/);
    expect(() => createVerifier({ ...fixed, keys: [{ kid: 'ok', alg: 'HS256', key: secret(32) }], algorithms: ['HS256'] })).not.toThrow();
  });

  it('does no I/O when the options are valid', () => {
    const verifier = createVerifier({ ...base, revocations: { fetch: noFetch } });
    expect(noFetch).not.toHaveBeenCalled();
    expect(verifier.jwksStatus()).toMatchObject({ keys: 0, fetches: 0, fetchedAt: null });
    expect(verifier.feedStatus()).toMatchObject({ source: 'sse', connected: false, cursor: null });
    verifier.close();
  });
});

describe('verify()', () => {
  const clock = manualClock();
  let signer: TestKey;
  let impostor: TestKey;
  const jwksFetch = vi.fn<typeof fetch>();

  beforeAll(async () => {
    signer = await testKey(clock);
    impostor = await testKey(clock);
    jwksFetch.mockImplementation(async () => Response.json({ keys: [signer.jwk] }, { headers: { 'cache-control': 'max-age=300' } }));
  });

  const remote = () => createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, jwks: { fetch: jwksFetch }, clock });

  it('accepts a token issued by createIssuer with a key published in the JWKS', async () => {
    const verifier = remote();
    await verifier.ready();
    const claims = await verifier.verify(signer.issue({ sub: 'user-42', scope: 'orders:read' }));
    expect(claims).toMatchObject({ iss: ISSUER, aud: AUDIENCE, sub: 'user-42', scope: 'orders:read', iat: NOW_MS / 1000 });
    expect(verifier.jwksStatus()).toMatchObject({ keys: 1, stale: false, lastError: null });
    expect(verifier.metrics()).toContain('tessera_verify_jwks_keys 1');
  });

  it('loads the JWKS on first use when ready() was not called', async () => {
    const verifier = remote();
    expect((await verifier.verify(signer.issue())).sub).toBe('user-1');
  });

  it('refuses a forged token: same kid, another key', async () => {
    const verifier = remote();
    await verifier.ready();
    // A well-formed, validly signed token naming the real kid, signed with a key the issuer never published.
    const forger = createIssuer({ issuer: ISSUER, audience: AUDIENCE, signingKey: { ...impostor.key, kid: signer.key.kid }, clock });
    const { token } = forger.issue({ sub: 'admin' });
    expect(await codeOf(() => verifier.verify(token))).toBe(ErrorCodes.TOKEN_SIGNATURE);
  });

  it('refuses a token whose payload was altered after signing', async () => {
    const verifier = remote();
    const [h, , s] = signer.issue().split('.');
    const payload = b64({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: NOW_MS / 1000 + 600, iat: NOW_MS / 1000 });
    expect(await codeOf(() => verifier.verify(`${h}.${payload}.${s}`))).toBe(ErrorCodes.TOKEN_SIGNATURE);
  });

  it('refuses alg "none" (unsigned tokens)', async () => {
    const verifier = remote();
    const payload = b64({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: NOW_MS / 1000 + 600, iat: NOW_MS / 1000 });
    for (const alg of ['none', 'None', 'NONE']) {
      expect(await codeOf(() => verifier.verify(`${b64({ alg, kid: signer.key.kid, typ: 'at+jwt' })}.${payload}.AAAA`))).toBe(
        ErrorCodes.TOKEN_ALG,
      );
    }
  });

  // alg confusion: HS256 keyed with the asymmetric public key, CVE-2015-9235
  it('refuses HS256 signed with the published public key as the HMAC secret', async () => {
    const verifier = remote();
    await verifier.ready();
    const input = `${b64({ alg: 'HS256', kid: signer.key.kid, typ: 'at+jwt' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: NOW_MS / 1000 + 600 })}`;
    const pem = signer.key.key.export({ type: 'spki', format: 'pem' });
    const token = `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    expect(await codeOf(() => verifier.verify(token))).toBe(ErrorCodes.TOKEN_ALG);
  });

  it('refuses an expired token once the clock passes exp + leeway', async () => {
    const local = manualClock();
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: [signer.key], clock: local, leeway: 30 });
    const token = signer.issue({ ttl: 60 });
    await verifier.verify(token);
    local.advance((60 + 30 + 1) * 1000);
    expect(await codeOf(() => verifier.verify(token))).toBe(ErrorCodes.TOKEN_EXPIRED);
  });

  it('refuses the wrong audience, the wrong issuer and a non-access-token typ', async () => {
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: [signer.key], clock });
    expect(await codeOf(() => verifier.verify(signer.issue({ aud: 'billing' })))).toBe(ErrorCodes.TOKEN_CLAIM);
    const other = await testKey(clock, 'ES256', 'https://evil.example');
    const trusting = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: [other.key], clock });
    expect(await codeOf(() => trusting.verify(other.issue()))).toBe(ErrorCodes.TOKEN_CLAIM);
    const [, p, s] = signer.issue().split('.');
    expect(await codeOf(() => verifier.verify(`${b64({ alg: 'ES256', kid: signer.key.kid, typ: 'JWT' })}.${p}.${s}`))).toBe(
      ErrorCodes.TOKEN_TYPE,
    );
  });

  it('accepts fixed keys as an array, a Map or a resolver', async () => {
    const token = signer.issue();
    for (const keys of [
      [signer.key],
      new Map([[signer.key.kid, signer.key]]),
      { get: (kid: string) => (kid === signer.key.kid ? signer.key : undefined) },
    ]) {
      const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys, clock });
      expect((await verifier.verify(token)).sub).toBe('user-1');
      expect(verifier.jwksStatus()).toBeNull();
      expect(verifier.feedStatus()).toBeNull();
      expect(verifier.metrics()).toBe('\n');
    }
  });
});
