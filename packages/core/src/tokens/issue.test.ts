import { Buffer } from 'node:buffer';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALGORITHMS,
  type Algorithm,
  createIssuer,
  createVerifier,
  DEFAULT_ACCESS_TOKEN_TTL,
  ErrorCodes,
  generateSigningKey,
  type KeyResolver,
  MAX_LEEWAY,
  type SigningKey,
  type VerifierOptions,
} from '../index.js';
import { AUDIENCE, expectCode, generateKeys, ISSUER, NOW, NOW_MS, verifierFor } from '../test-fixtures.js';

let keys: Record<Algorithm, SigningKey>;

beforeAll(async () => {
  keys = await generateKeys();
});

const decode = (segment: string | undefined) => JSON.parse(Buffer.from(segment ?? '', 'base64url').toString('utf8'));

describe('createIssuer', () => {
  it('writes header {alg, kid, typ: "at+jwt"} and the RFC 9068 claims, exp = iat + ttl', () => {
    const issuer = createIssuer({ issuer: ISSUER, audience: AUDIENCE, signingKey: keys.ES256, clock: () => NOW_MS + 999 });
    const issued = issuer.issue({
      sub: 'u1',
      sid: 's1',
      client_id: 'web',
      scope: 'read write',
      email: 'a@b.c',
      name: 'A',
      roles: ['admin'],
    });
    const [h, p] = issued.token.split('.');
    expect(Object.entries(decode(h))).toEqual([
      ['alg', 'ES256'],
      ['kid', keys.ES256.kid],
      ['typ', 'at+jwt'],
    ]);
    const payload = decode(p);
    expect(payload).toEqual(issued.claims);
    expect(payload).toMatchObject({ iss: ISSUER, sub: 'u1', aud: AUDIENCE, iat: NOW, exp: NOW + DEFAULT_ACCESS_TOKEN_TTL, sid: 's1' });
    expect(payload).toMatchObject({ client_id: 'web', scope: 'read write', email: 'a@b.c', name: 'A', roles: ['admin'] });
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(issued.kid).toBe(keys.ES256.kid);
  });

  it('omits optional claims not given, defaults aud to the issuer, and gives each token its own jti', () => {
    const issuer = createIssuer({ issuer: ISSUER, signingKey: keys.EdDSA, ttl: 60, clock: () => NOW_MS });
    const a = issuer.issue({ sub: 'u1' });
    const b = issuer.issue({ sub: 'u1' });
    expect(Object.keys(a.claims).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sub']);
    expect(a.claims.aud).toBe(ISSUER);
    expect(a.claims.exp).toBe(NOW + 60);
    expect(a.claims.jti).not.toBe(b.claims.jti);
    expect(issuer.issue({ sub: 'u1', ttl: 5, aud: ['x', 'y'] }).claims).toMatchObject({ exp: NOW + 5, aud: ['x', 'y'] });
  });

  for (const alg of ALGORITHMS) {
    it(`round-trips ${alg} through the verifier`, () => {
      const issuer = createIssuer({ issuer: ISSUER, audience: AUDIENCE, signingKey: keys[alg], clock: () => NOW_MS });
      const { token, claims } = issuer.issue({ sub: 'u1', sid: 's1' });
      expect(verifierFor([keys[alg]]).verify(token)).toEqual(claims);
    });
  }

  // RSA moduli that are not a multiple of 8 bits: the signature is ceil(bits / 8) bytes, not bits / 8
  it('round-trips RS256 and PS256 with a 2052-bit modulus', async () => {
    for (const alg of ['RS256', 'PS256'] as const) {
      const key = await generateSigningKey(alg, { modulusLength: 2052 });
      const { token } = createIssuer({ issuer: ISSUER, audience: AUDIENCE, signingKey: key, clock: () => NOW_MS }).issue({ sub: 'u1' });
      expect(Buffer.from(token.split('.')[2] as string, 'base64url')).toHaveLength(257);
      expect(verifierFor([key]).verify(token).sub).toBe('u1');
    }
  });

  it('asks the signing-key function on every issue, so rotation takes effect at once', () => {
    let current = keys.ES256;
    const issuer = createIssuer({ issuer: ISSUER, signingKey: () => current, clock: () => NOW_MS });
    expect(issuer.issue({ sub: 'u' }).kid).toBe(keys.ES256.kid);
    current = keys.EdDSA;
    const next = issuer.issue({ sub: 'u' });
    expect(next.kid).toBe(keys.EdDSA.kid);
    expect(decode(next.token.split('.')[0]).alg).toBe('EdDSA');
  });

  it('refuses missing issuer, signing key or sub, and a bad ttl (ERR_INVALID_OPTION)', () => {
    const ok = { issuer: ISSUER, signingKey: keys.ES256 };
    expectCode(() => createIssuer({ ...ok, issuer: '' }), ErrorCodes.INVALID_OPTION);
    expectCode(() => createIssuer({ ...ok, signingKey: undefined as unknown as SigningKey }), ErrorCodes.INVALID_OPTION);
    for (const ttl of [0, -1, 1.5, Number.NaN]) expectCode(() => createIssuer({ ...ok, ttl }), ErrorCodes.INVALID_OPTION);
    const issuer = createIssuer(ok);
    expectCode(() => issuer.issue({ sub: '' }), ErrorCodes.INVALID_OPTION);
    expectCode(() => issuer.issue({ sub: 'u', ttl: 0 }), ErrorCodes.INVALID_OPTION);
  });
});

describe('createVerifier options', () => {
  const base = (): VerifierOptions => ({ issuer: ISSUER, audience: AUDIENCE, keys: new Map() });

  // late misconfiguration: options are checked at construction, never at the first request
  it('refuses missing or invalid options at construction (ERR_INVALID_OPTION)', () => {
    const bad: Partial<Record<keyof VerifierOptions, unknown>>[] = [
      { issuer: undefined },
      { issuer: '' },
      { audience: undefined },
      { audience: '' },
      { audience: [] },
      { audience: ['api', 1] },
      { keys: undefined },
      { keys: {} },
      { leeway: MAX_LEEWAY + 1 },
      { leeway: -1 },
      { leeway: Number.NaN },
      { maxTokenSize: 10 },
      { maxTokenSize: 1.5 },
      { algorithms: [] },
      { algorithms: ['none'] },
      { algorithms: ['ES256', 'HS512'] },
      { cache: { max: -1 } },
      { cache: { max: 1.5 } },
      { isRevoked: true },
    ];
    for (const override of bad) {
      expectCode(() => createVerifier({ ...base(), ...override } as VerifierOptions), ErrorCodes.INVALID_OPTION);
    }
    expectCode(() => createVerifier(undefined as unknown as VerifierOptions), ErrorCodes.INVALID_OPTION);
  });

  it('accepts leeway 300, a single algorithm, a custom resolver and no cache', () => {
    const resolver: KeyResolver = { get: (kid) => (kid === keys.ES256.kid ? keys.ES256 : undefined) };
    const verifier = createVerifier({ ...base(), keys: resolver, leeway: 300, algorithms: ['ES256'], cache: false, clock: () => NOW_MS });
    const { token } = createIssuer({ issuer: ISSUER, audience: AUDIENCE, signingKey: keys.ES256, clock: () => NOW_MS }).issue({ sub: 'u' });
    expect(verifier.verify(token).sub).toBe('u');
  });

  it('verifyAsync works when detached from the verifier object', async () => {
    const { token } = createIssuer({ issuer: ISSUER, audience: AUDIENCE, signingKey: keys.ES256, clock: () => NOW_MS }).issue({ sub: 'u' });
    const { verify, verifyAsync } = verifierFor([keys.ES256]);
    expect(verify(token).sub).toBe('u');
    expect((await verifyAsync(token)).sub).toBe('u');
  });
});
