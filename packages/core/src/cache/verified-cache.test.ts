import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AccessTokenClaims,
  type CachedToken,
  ErrorCodes,
  generateSigningKey,
  type SigningKey,
  type TokenExpiredError,
  TokenRevokedError,
  tokenCacheKey,
  type VerificationKey,
  VerifiedTokenCache,
} from '../index.js';
import { expectRefused, NOW, NOW_MS, token, verifierFor } from '../test-fixtures.js';

let key: SigningKey;
let other: SigningKey;

beforeAll(async () => {
  [key, other] = await Promise.all([generateSigningKey('ES256'), generateSigningKey('ES256')]);
});

describe('verified-token cache in the verifier', () => {
  it('a hit returns the same claims object', () => {
    const verifier = verifierFor([key]);
    const t = token(key);
    verifier.verify(t);
    expect(verifier.cacheSize).toBe(0); // admitted on the second verification, not the first
    const second = verifier.verify(t);
    expect(verifier.cacheSize).toBe(1);
    expect(verifier.verify(t)).toBe(second);
  });

  // stale revocation: a cached verification must not outlive a logout (DESIGN: the revocation check runs on every hit)
  it('runs the revocation hook on every miss and every hit', () => {
    const seen: Readonly<AccessTokenClaims>[] = [];
    let revoked = false;
    const verifier = verifierFor([key], {
      isRevoked: (c) => {
        seen.push(c);
        return revoked;
      },
    });
    const t = token(key);
    for (let i = 0; i < 3; i++) verifier.verify(t);
    expect(seen).toHaveLength(3);
    verifier.verify(token(key, { sid: 'sid-2' }));
    expect(seen).toHaveLength(4);
    expect(seen[3]?.sid).toBe('sid-2');
    revoked = true;
    const err = expectRefused(verifier, t, ErrorCodes.TOKEN_REVOKED);
    expect(err).toBeInstanceOf(TokenRevokedError);
    expect(seen).toHaveLength(5);
  });

  it('runs the hook when the cache is off, and caches nothing', () => {
    let calls = 0;
    const verifier = verifierFor([key], { cache: false, isRevoked: () => ++calls > 2 });
    const t = token(key);
    verifier.verify(t);
    verifier.verify(t);
    expect(verifier.cacheSize).toBe(0);
    expectRefused(verifier, t, ErrorCodes.TOKEN_REVOKED);
    expect(calls).toBe(3);
  });

  it('a revoked token on a miss is not cached', () => {
    const verifier = verifierFor([key], { isRevoked: () => true });
    expectRefused(verifier, token(key), ErrorCodes.TOKEN_REVOKED);
    expect(verifier.cacheSize).toBe(0);
  });

  // cached past expiry: a hit must re-check exp against the clock
  it('an entry that expired since it was cached is refused (ERR_TOKEN_EXPIRED) and dropped', () => {
    let now = NOW_MS;
    const verifier = verifierFor([key], { clock: () => now });
    const t = token(key, { exp: NOW + 60 });
    verifier.verify(t);
    now = NOW_MS + (60 + 29) * 1000;
    expect(verifier.verify(t).sub).toBe('user-1');
    now = NOW_MS + (60 + 30) * 1000;
    const err = expectRefused(verifier, t, ErrorCodes.TOKEN_EXPIRED);
    expect((err as TokenExpiredError).expiredAt).toBe(NOW + 60);
    expect(verifier.cacheSize).toBe(0);
  });

  it('refused tokens are never cached', () => {
    const verifier = verifierFor([key]);
    expectRefused(verifier, token(key, { exp: NOW - 3600 }), ErrorCodes.TOKEN_EXPIRED);
    expectRefused(verifier, token(key, { aud: 'other' }), ErrorCodes.TOKEN_CLAIM);
    expect(verifier.cacheSize).toBe(0);
  });

  it('stays within its bound, and clearCache empties it', () => {
    const verifier = verifierFor([key], { cache: { max: 2 } });
    for (let i = 0; i < 5; i++) {
      const t = token(key, { jti: `j${i}` });
      verifier.verify(t);
      verifier.verify(t);
    }
    expect(verifier.cacheSize).toBe(2);
    verifier.clearCache();
    expect(verifier.cacheSize).toBe(0);
  });

  // key replaced under the same kid: the cache must not vouch for a token the new key does not verify
  it('drops an entry whose key was replaced under the same kid', () => {
    const keys = new Map<string, VerificationKey>([[key.kid, key]]);
    const verifier = verifierFor([], { keys });
    const t = token(key);
    verifier.verify(t);
    keys.set(key.kid, { ...other, kid: key.kid });
    expectRefused(verifier, t, ErrorCodes.TOKEN_SIGNATURE);
    expect(verifier.cacheSize).toBe(0);
  });

  // cache-key aliasing: hashing the token as latin1 maps U+0141 and U+0041 to the same byte, so a malformed
  // string would hit a valid token's cache entry
  it('a string that differs from a cached token only above U+00FF is not a hit (ERR_TOKEN_MALFORMED)', () => {
    const verifier = verifierFor([key]);
    const t = token(key);
    verifier.verify(t);
    const i = t.length - 5;
    const alias = t.slice(0, i) + String.fromCharCode(t.charCodeAt(i) + 0x100) + t.slice(i + 1);
    expect(tokenCacheKey(alias)).not.toBe(tokenCacheKey(t));
    expectRefused(verifier, alias, ErrorCodes.TOKEN_MALFORMED);
  });
});

describe('VerifiedTokenCache', () => {
  const entry = (sub: string): CachedToken => ({ claims: { iss: 'i', sub, aud: 'a', exp: NOW }, key: {} as VerificationKey });

  it('evicts the least recently used entry when full', () => {
    const cache = new VerifiedTokenCache(2);
    cache.set('a', entry('a'));
    cache.set('b', entry('b'));
    expect(cache.get('a')?.claims.sub).toBe('a');
    cache.set('c', entry('c'));
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.claims.sub).toBe('a');
    expect(cache.get('c')?.claims.sub).toBe('c');
    cache.set('d', entry('d'));
    expect(cache.get('a')).toBeUndefined();
    cache.delete('c');
    expect(cache.size).toBe(1);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('keys tokens by SHA-256, never by the token itself', () => {
    const k = tokenCacheKey('a.b.c');
    expect(k).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(k).not.toContain('a.b.c');
    expect(tokenCacheKey('a.b.c')).toBe(k);
    expect(tokenCacheKey('a.b.d')).not.toBe(k);
  });
});
