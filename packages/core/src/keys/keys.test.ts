import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALGORITHMS,
  type Algorithm,
  assertKeyFitsAlgorithm,
  ErrorCodes,
  exportPrivateJwk,
  exportPublicJwk,
  fromKeyObject,
  generateSigningKey,
  importJwks,
  importPem,
  importSigningJwk,
  importVerificationJwk,
  type SigningKey,
  thumbprint,
} from '../index.js';
import { expectCode, expectCodeAsync, generateKeys } from '../test-fixtures.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const ASYMMETRIC = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;

/** RFC 7638 §3.1: the example RSA key (with its optional members) and its SHA-256 thumbprint. */
const RFC7638_JWK: JWK = {
  kty: 'RSA',
  n:
    '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknj' +
    'hMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQ' +
    'vRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
};

let keys: Record<Algorithm, SigningKey>;

beforeAll(async () => {
  keys = await generateKeys();
});

describe('thumbprint', () => {
  it('matches the RFC 7638 §3.1 example', async () => {
    expect(await thumbprint(RFC7638_JWK)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
    // Optional members do not change it.
    expect(await thumbprint({ kty: 'RSA', n: RFC7638_JWK.n, e: 'AQAB' })).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});

describe('generateSigningKey', () => {
  for (const alg of ALGORITHMS) {
    it(`generates ${alg} with its kid set to the RFC 7638 thumbprint`, async () => {
      const key = await generateSigningKey(alg);
      expect(key.alg).toBe(alg);
      expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
      if (alg === 'HS256') {
        expect(key.privateKey.type).toBe('secret');
        expect(key.privateKey.symmetricKeySize).toBe(32);
        expect(key.kid).toBe(await thumbprint(key.privateKey.export({ format: 'jwk' }) as JWK));
      } else {
        expect(key.privateKey.type).toBe('private');
        expect(key.key.type).toBe('public');
        expect(key.kid).toBe(await thumbprint(key.key.export({ format: 'jwk' }) as JWK));
      }
    });
  }

  it('defaults to ES256 and gives every key a different kid', async () => {
    const [a, b] = await Promise.all([generateSigningKey(), generateSigningKey()]);
    expect(a.alg).toBe('ES256');
    expect(a.kid).not.toBe(b.kid);
  });

  // weak RSA: moduli under 2048 bits are factorable within reach (RFC 7518 §3.3)
  it('refuses RSA under 2048 bits (ERR_KEY_WEAK)', async () => {
    await expectCodeAsync(generateSigningKey('RS256', { modulusLength: 1024 }), ErrorCodes.KEY_WEAK);
    await expectCodeAsync(generateSigningKey('PS256', { modulusLength: 2047 }), ErrorCodes.KEY_WEAK);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await expectCodeAsync(fromKeyObject(small.privateKey, 'RS256'), ErrorCodes.KEY_WEAK);
    await expectCodeAsync(importPem(small.publicKey.export({ type: 'spki', format: 'pem' }) as string, 'RS256'), ErrorCodes.KEY_WEAK);
    await expectCodeAsync(importVerificationJwk(small.publicKey.export({ format: 'jwk' }) as JWK, { alg: 'PS256' }), ErrorCodes.KEY_WEAK);
  });

  it('refuses an unsupported algorithm (ERR_KEY_INVALID)', async () => {
    await expectCodeAsync(generateSigningKey('none' as Algorithm), ErrorCodes.KEY_INVALID);
    await expectCodeAsync(generateSigningKey('ES384' as Algorithm), ErrorCodes.KEY_INVALID);
  });
});

describe('exportPublicJwk', () => {
  // private key disclosure: a JWKS that publishes d, p, q… hands out the signing key
  for (const alg of ASYMMETRIC) {
    it(`publishes no private member for ${alg}, even given a signing key`, async () => {
      const jwk = await exportPublicJwk(keys[alg]);
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
      expect(jwk).toMatchObject({ kid: keys[alg].kid, alg, use: 'sig' });
      expect(await thumbprint(jwk)).toBe(keys[alg].kid);
    });
  }

  it('refuses to publish an HS256 secret (ERR_KEY_INVALID)', async () => {
    await expectCodeAsync(exportPublicJwk(keys.HS256), ErrorCodes.KEY_INVALID);
  });

  it('exportPrivateJwk round-trips through importSigningJwk with the same kid', async () => {
    for (const alg of ALGORITHMS) {
      const again = await importSigningJwk(await exportPrivateJwk(keys[alg]));
      expect(again.kid).toBe(keys[alg].kid);
      expect(again.alg).toBe(alg);
    }
  });
});

describe('importVerificationJwk', () => {
  it('pins the algorithm from the JWK or the option, keeps a foreign kid, and drops private members', async () => {
    const priv = (await exportPrivateJwk(keys.ES256)) as JWK;
    const key = await importVerificationJwk({ ...priv, kid: 'foreign-1' });
    expect(key).toMatchObject({ kid: 'foreign-1', alg: 'ES256' });
    expect(key.key.type).toBe('public');
    const { kid: _kid, alg: _alg, ...bare } = priv;
    const pinned = await importVerificationJwk(bare, { alg: 'ES256' });
    expect(pinned.kid).toBe(keys.ES256.kid);
  });

  // key confusion via JWK metadata: a key published for one algorithm or use must not serve another
  it('refuses a JWK whose alg, use or key_ops disagree with the pin (ERR_KEY_INVALID)', async () => {
    const rsa = await exportPublicJwk(keys.RS256);
    const ec = await exportPublicJwk(keys.ES256);
    const { alg: _a, ...rsaNoAlg } = rsa;
    await expectCodeAsync(importVerificationJwk(rsa, { alg: 'PS256' }), ErrorCodes.KEY_INVALID);
    await expectCodeAsync(importVerificationJwk({ ...rsa, use: 'enc' }), ErrorCodes.KEY_INVALID);
    await expectCodeAsync(importVerificationJwk({ ...rsa, key_ops: ['encrypt'] }), ErrorCodes.KEY_INVALID);
    await expectCodeAsync(importVerificationJwk(rsaNoAlg), ErrorCodes.KEY_INVALID);
    await expectCodeAsync(importVerificationJwk({ ...ec, alg: 'RS256' }), ErrorCodes.KEY_INVALID);
    await expectCodeAsync(importVerificationJwk(ec, { alg: 'HS256' }), ErrorCodes.KEY_INVALID);
    await expectCodeAsync(importVerificationJwk({ ...ec, alg: 'none' } as JWK), ErrorCodes.KEY_INVALID);
    expect((await importVerificationJwk({ ...rsa, key_ops: ['verify'] })).alg).toBe('RS256');
  });

  it('refuses keys of the wrong type or curve for the pinned algorithm (ERR_KEY_INVALID)', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' }) as JWK;
    const ed448 = generateKeyPairSync('ed448').publicKey.export({ format: 'jwk' }) as JWK;
    await expectCodeAsync(importVerificationJwk(p384, { alg: 'ES256' }), ErrorCodes.KEY_INVALID);
    await expectCodeAsync(importVerificationJwk(ed448, { alg: 'EdDSA' }), ErrorCodes.KEY_INVALID);
    await expectCodeAsync(
      importVerificationJwk({ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }, { alg: 'ES256' }),
      ErrorCodes.KEY_INVALID,
    );
  });

  it('importSigningJwk refuses a public JWK (ERR_KEY_INVALID)', async () => {
    await expectCodeAsync(importSigningJwk(await exportPublicJwk(keys.ES256)), ErrorCodes.KEY_INVALID);
  });
});

describe('importPem', () => {
  it('imports SPKI public and PKCS#8 private PEMs with the algorithm pinned', async () => {
    const pub = await importPem(keys.ES256.key.export({ type: 'spki', format: 'pem' }) as string, 'ES256');
    expect(pub).toMatchObject({ kid: keys.ES256.kid, alg: 'ES256' });
    expect(pub).not.toHaveProperty('privateKey');
    const priv = await importPem(keys.EdDSA.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'EdDSA');
    expect(priv).toMatchObject({ kid: keys.EdDSA.kid, alg: 'EdDSA' });
    expect(priv).toHaveProperty('privateKey');
  });

  it('refuses garbage, a mismatched key type, and HS256 (ERR_KEY_INVALID)', async () => {
    await expectCodeAsync(importPem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', 'ES256'), ErrorCodes.KEY_INVALID);
    const ecPem = keys.ES256.key.export({ type: 'spki', format: 'pem' }) as string;
    await expectCodeAsync(importPem(ecPem, 'RS256'), ErrorCodes.KEY_INVALID);
    await expectCodeAsync(importPem(ecPem, 'EdDSA'), ErrorCodes.KEY_INVALID);
    await expectCodeAsync(importPem(ecPem, 'HS256'), ErrorCodes.KEY_INVALID);
  });

  it('fromKeyObject refuses a public key and assertKeyFitsAlgorithm refuses a secret for ES256 (ERR_KEY_INVALID)', async () => {
    await expectCodeAsync(fromKeyObject(createPublicKey(keys.ES256.privateKey), 'ES256'), ErrorCodes.KEY_INVALID);
    expectCode(() => assertKeyFitsAlgorithm(keys.HS256.privateKey, 'ES256'), ErrorCodes.KEY_INVALID);
    expectCode(() => assertKeyFitsAlgorithm(keys.ES256.key, 'HS256'), ErrorCodes.KEY_INVALID);
  });
});

describe('importJwks', () => {
  it('imports published keys pinned to their alg', async () => {
    const jwks = { keys: await Promise.all(ASYMMETRIC.map((alg) => exportPublicJwk(keys[alg]))) };
    const imported = await importJwks(jwks);
    expect([...imported.keys()].sort()).toEqual(ASYMMETRIC.map((a) => keys[a].kid).sort());
    for (const alg of ASYMMETRIC) expect(imported.get(keys[alg].kid)?.alg).toBe(alg);
  });

  // a JWKS never widens what the verifier accepts: no alg, no kid, a foreign alg or a secret are skipped
  it('skips keys without alg or kid, with a disallowed alg, with use "enc", HS256 secrets and invalid material', async () => {
    const es = await exportPublicJwk(keys.ES256);
    const rs = await exportPublicJwk(keys.RS256);
    const { alg: _alg, ...noAlg } = await exportPublicJwk(keys.EdDSA);
    const { kid: _kid, ...noKid } = await exportPublicJwk(keys.PS256);
    const secret = { ...(await exportPrivateJwk(keys.HS256)) };
    const jwks = {
      keys: [
        noAlg,
        noKid,
        { ...rs, alg: 'RS512' },
        { ...rs, kid: 'enc-key', use: 'enc' },
        secret,
        { ...es, kid: 'broken', x: 'AAAA' },
        { ...es, kid: 'swapped', alg: 'RS256' },
        null,
        'nonsense',
        es,
        { ...es, kid: es.kid, alg: 'EdDSA' },
      ],
    };
    const imported = await importJwks(jwks, { algorithms: ['ES256', 'EdDSA', 'RS256', 'PS256', 'HS256'] });
    expect([...imported.keys()]).toEqual([es.kid]);
    expect(imported.get(es.kid as string)?.alg).toBe('ES256');
  });

  it('honours the algorithms option and tolerates documents that are not a JWKS', async () => {
    const jwks = { keys: [await exportPublicJwk(keys.ES256), await exportPublicJwk(keys.RS256)] };
    expect([...(await importJwks(jwks, { algorithms: ['RS256'] })).keys()]).toEqual([keys.RS256.kid]);
    for (const doc of [null, undefined, {}, { keys: 'x' }, [], 'jwks']) expect((await importJwks(doc)).size).toBe(0);
  });
});
