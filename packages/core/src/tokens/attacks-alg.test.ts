import { Buffer } from 'node:buffer';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Algorithm, ErrorCodes, exportPublicJwk, importPem, importSecret, type SigningKey, type Verifier } from '../index.js';
import {
  b64,
  claims,
  expectCodeAsync,
  expectRefused,
  forge,
  generateKeys,
  header,
  rawSign,
  signSegments,
  token,
  verifierFor,
} from '../test-fixtures.js';

let keys: Record<Algorithm, SigningKey>;
let attacker: Record<Algorithm, SigningKey>;
let verifier: Verifier;

beforeAll(async () => {
  [keys, attacker] = await Promise.all([generateKeys(), generateKeys()]);
  verifier = verifierFor(Object.values(keys));
});

/** An HS256 token for `kid`, HMAC-keyed with `secret`: what an attacker holding only public material can make. */
function hmacForged(kid: string, secret: Uint8Array | string): string {
  const input = `${b64(header({ alg: 'HS256', kid }))}.${b64(claims())}`;
  return `${input}.${rawSign('HS256', input, typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret).toString('base64url')}`;
}

describe('alg none', () => {
  // alg none: unsecured JWS accepted as signed (the original 2015 JWT library flaw, CVE-2015-9235 family)
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    it(`refuses alg "${alg}" with a non-empty signature as ERR_TOKEN_ALG`, () => {
      const h = b64(header(keys.ES256, { alg }));
      const p = b64(claims());
      const withRealSignature = `${h}.${p}.${rawSign('ES256', `${h}.${p}`, keys.ES256.privateKey).toString('base64url')}`;
      expectRefused(verifier, withRealSignature, ErrorCodes.TOKEN_ALG);
      expectRefused(verifier, `${h}.${p}.AAAA`, ErrorCodes.TOKEN_ALG);
    });

    it(`refuses alg "${alg}" with an empty signature at the syntax check (ERR_TOKEN_MALFORMED)`, () => {
      // An empty third segment fails the compact-syntax regex before the header is read.
      expectRefused(verifier, `${b64(header(keys.ES256, { alg }))}.${b64(claims())}.`, ErrorCodes.TOKEN_MALFORMED);
    });
  }

  it('refuses a missing, non-string or near-miss alg as ERR_TOKEN_ALG', () => {
    for (const alg of [undefined, null, 42, ['ES256'], { alg: 'ES256' }, 'es256', 'ES256 ', 'ES384', 'HS512', '']) {
      expectRefused(verifier, token(keys.ES256, {}, { alg }), ErrorCodes.TOKEN_ALG);
    }
  });
});

describe('algorithm confusion', () => {
  it('accepts the genuine tokens it is attacked with (control)', () => {
    for (const key of Object.values(keys)) expect(verifier.verify(token(key)).sub).toBe('user-1');
  });

  // alg confusion: HS256 keyed with the RSA public key, CVE-2015-9235 (and CVE-2023-48223: PEM whitespace variants)
  for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA'] as const) {
    it(`refuses HS256 HMAC-keyed with the ${alg} key's public PEM and its variants (ERR_TOKEN_ALG)`, () => {
      const key = keys[alg].key;
      const pem = key.export({ type: 'spki', format: 'pem' }) as string;
      const variants = [
        pem,
        pem.trimEnd(),
        `${pem}\n`,
        `${pem}  `,
        `${pem.trimEnd()}\t`,
        `\n${pem}`,
        pem.replace(/\n/g, '\r\n'),
        `-----BEGIN PUBLIC KEY-----${pem.slice('-----BEGIN PUBLIC KEY-----'.length)}`,
      ];
      if (alg === 'RS256' || alg === 'PS256') variants.push(key.export({ type: 'pkcs1', format: 'pem' }) as string);
      for (const secret of variants) expectRefused(verifier, hmacForged(keys[alg].kid, secret), ErrorCodes.TOKEN_ALG);
      expectRefused(verifier, hmacForged(keys[alg].kid, key.export({ type: 'spki', format: 'der' })), ErrorCodes.TOKEN_ALG);
    });
  }

  // alg confusion: HS256 keyed with the published JWK JSON (CVE-2015-9235 via JWKS)
  it('refuses HS256 HMAC-keyed with the RS256 and ES256 keys as JWK JSON strings (ERR_TOKEN_ALG)', async () => {
    for (const alg of ['RS256', 'ES256'] as const) {
      const published = await exportPublicJwk(keys[alg]);
      const raw = keys[alg].key.export({ format: 'jwk' });
      for (const secret of [JSON.stringify(published), JSON.stringify(raw), JSON.stringify(published, null, 2)]) {
        expectRefused(verifier, hmacForged(keys[alg].kid, secret), ErrorCodes.TOKEN_ALG);
      }
    }
  });

  it('refuses HS256 confusion even when the verifier only allows RS256 (ERR_TOKEN_ALG)', () => {
    const rsOnly = verifierFor([keys.RS256], { algorithms: ['RS256'] });
    const pem = keys.RS256.key.export({ type: 'spki', format: 'pem' }) as string;
    expectRefused(rsOnly, hmacForged(keys.RS256.kid, pem), ErrorCodes.TOKEN_ALG);
  });

  it('refuses a key pinned to RS256 verifying a PS256 token made with the same RSA key, and vice versa (ERR_TOKEN_ALG)', () => {
    const h = b64(header(keys.RS256, { alg: 'PS256' }));
    expectRefused(verifier, signSegments(h, b64(claims()), keys.RS256, 'PS256'), ErrorCodes.TOKEN_ALG);
    const h2 = b64(header(keys.PS256, { alg: 'RS256' }));
    expectRefused(verifier, signSegments(h2, b64(claims()), keys.PS256, 'RS256'), ErrorCodes.TOKEN_ALG);
  });

  it('refuses a token claiming EdDSA for an ES256-pinned kid (ERR_TOKEN_ALG)', () => {
    const h = b64(header(keys.ES256, { alg: 'EdDSA' }));
    expectRefused(verifier, signSegments(h, b64(claims()), attacker.EdDSA), ErrorCodes.TOKEN_ALG);
  });

  it('refuses an algorithm outside the verifier\'s "algorithms" even with a known key (ERR_TOKEN_ALG)', () => {
    const esOnly = verifierFor(Object.values(keys), { algorithms: ['ES256'] });
    expect(esOnly.verify(token(keys.ES256)).sub).toBe('user-1');
    for (const alg of ['EdDSA', 'RS256', 'PS256', 'HS256'] as const) expectRefused(esOnly, token(keys[alg]), ErrorCodes.TOKEN_ALG);
  });

  for (const alg of ['ES256', 'EdDSA', 'RS256', 'PS256', 'HS256'] as const) {
    it(`refuses an ${alg} token signed by another ${alg} key under the right kid (ERR_TOKEN_SIGNATURE)`, () => {
      const forged = forge(header(keys[alg]), claims(), attacker[alg]);
      expectRefused(verifier, forged, ErrorCodes.TOKEN_SIGNATURE);
    });
  }
});

describe('HS256 key material', () => {
  // weak HMAC secrets: brute-forceable offline from any one token (RFC 7518 §3.2 requires ≥ 256 bits)
  it('refuses empty and short secrets (ERR_KEY_WEAK)', async () => {
    for (const size of [0, 1, 16, 31]) await expectCodeAsync(importSecret(Buffer.alloc(size, 7)), ErrorCodes.KEY_WEAK);
    expect((await importSecret(Buffer.alloc(32, 7))).alg).toBe('HS256');
  });

  it('importPem refuses HS256 (ERR_KEY_INVALID)', async () => {
    const pem = keys.RS256.key.export({ type: 'spki', format: 'pem' }) as string;
    await expectCodeAsync(importPem(pem, 'HS256'), ErrorCodes.KEY_INVALID);
  });
});
