import { beforeAll, describe, expect, it } from 'vitest';
import { AuthError, ErrorCodes, type SigningKey, TokenError, TokenExpiredError, type Verifier } from '../index.js';
import { AUDIENCE, caught, expectRefused, generateKeys, ISSUER, NOW, NOW_MS, token, verifierFor } from '../test-fixtures.js';

let key: SigningKey;
let verifier: Verifier;

beforeAll(async () => {
  key = (await generateKeys()).ES256;
  verifier = verifierFor([key]);
});

describe('iss', () => {
  // issuer array confusion: ["https://evil", "<ours>"] passed a contains-check, CVE-2025-30144 (fast-jwt)
  it('refuses iss as an array containing the right issuer (ERR_TOKEN_CLAIM)', () => {
    expectRefused(verifier, token(key, { iss: [ISSUER] }), ErrorCodes.TOKEN_CLAIM);
    expectRefused(verifier, token(key, { iss: ['https://evil.example', ISSUER] }), ErrorCodes.TOKEN_CLAIM);
  });

  it('refuses a missing, different or near-miss issuer (ERR_TOKEN_CLAIM)', () => {
    for (const iss of [undefined, 'https://evil.example', `${ISSUER}/`, ISSUER.toUpperCase(), ` ${ISSUER}`, { iss: ISSUER }, 1]) {
      expectRefused(verifier, token(key, { iss }), ErrorCodes.TOKEN_CLAIM);
    }
  });
});

describe('aud', () => {
  // audience confusion: a token minted for another service replayed here (RFC 8725 §3.9)
  it('refuses aud missing, other, empty array, or an array with a non-string (ERR_TOKEN_CLAIM)', () => {
    for (const aud of [
      undefined,
      'other',
      '',
      [],
      ['other'],
      [AUDIENCE, 1],
      [1, AUDIENCE],
      [AUDIENCE, null],
      [[AUDIENCE]],
      { aud: AUDIENCE },
    ]) {
      expectRefused(verifier, token(key, { aud }), ErrorCodes.TOKEN_CLAIM);
    }
  });

  it('accepts aud as our string or an array of strings containing it', () => {
    expect(verifier.verify(token(key, { aud: AUDIENCE })).aud).toBe(AUDIENCE);
    expect(verifier.verify(token(key, { aud: ['other', AUDIENCE] })).aud).toEqual(['other', AUDIENCE]);
  });

  it('accepts any of several configured audiences', () => {
    const multi = verifierFor([key], { audience: ['api', 'billing'] });
    expect(multi.verify(token(key, { aud: 'billing' })).sub).toBe('user-1');
    expectRefused(multi, token(key, { aud: 'admin' }), ErrorCodes.TOKEN_CLAIM);
  });
});

describe('exp, nbf, iat', () => {
  // missing or mistyped exp: a token that never expires, or "exp" compared as a string
  it('refuses exp missing, as a string, or not a finite number (ERR_TOKEN_CLAIM)', () => {
    for (const exp of [undefined, String(NOW + 600), null, true, [NOW + 600], { exp: NOW + 600 }]) {
      expectRefused(verifier, token(key, { exp }), ErrorCodes.TOKEN_CLAIM);
    }
  });

  it('refuses a past exp with TokenExpiredError carrying expiredAt (ERR_TOKEN_EXPIRED)', () => {
    const err = expectRefused(verifier, token(key, { exp: NOW - 31, iat: NOW - 700 }), ErrorCodes.TOKEN_EXPIRED);
    expect(err).toBeInstanceOf(TokenExpiredError);
    expect(err).toBeInstanceOf(TokenError);
    expect((err as TokenExpiredError).expiredAt).toBe(NOW - 31);
  });

  it('accepts exp within the leeway, and refuses it at the leeway boundary', () => {
    expect(verifier.verify(token(key, { exp: NOW - 10 })).exp).toBe(NOW - 10);
    expect(verifier.verify(token(key, { exp: NOW - 29 })).exp).toBe(NOW - 29);
    expectRefused(verifier, token(key, { exp: NOW - 30 }), ErrorCodes.TOKEN_EXPIRED);
    const strict = verifierFor([key], { leeway: 0 });
    expectRefused(strict, token(key, { exp: NOW }), ErrorCodes.TOKEN_EXPIRED);
    expect(strict.verify(token(key, { exp: NOW + 1 })).sub).toBe('user-1');
  });

  it('refuses nbf in the future beyond the leeway (ERR_TOKEN_NOT_YET_VALID)', () => {
    expectRefused(verifier, token(key, { nbf: NOW + 60 }), ErrorCodes.TOKEN_NOT_YET_VALID);
    expect(verifier.verify(token(key, { nbf: NOW + 30 })).sub).toBe('user-1');
  });

  it('refuses iat an hour ahead (ERR_TOKEN_NOT_YET_VALID)', () => {
    expectRefused(verifier, token(key, { iat: NOW + 3600, exp: NOW + 4200 }), ErrorCodes.TOKEN_NOT_YET_VALID);
    expect(verifier.verify(token(key, { iat: NOW + 20 })).sub).toBe('user-1');
  });

  it('refuses mistyped nbf and iat (ERR_TOKEN_CLAIM)', () => {
    for (const value of ['0', null, Number.NaN, [0]]) {
      expectRefused(verifier, token(key, { nbf: value }), ErrorCodes.TOKEN_CLAIM);
      expectRefused(verifier, token(key, { iat: value }), ErrorCodes.TOKEN_CLAIM);
    }
  });

  it('reads the injected clock, not the wall clock', () => {
    const later = verifierFor([key], { clock: () => NOW_MS + 3600_000 });
    expectRefused(later, token(key), ErrorCodes.TOKEN_EXPIRED);
    const earlier = verifierFor([key], { clock: () => NOW_MS - 3600_000 });
    expectRefused(earlier, token(key), ErrorCodes.TOKEN_NOT_YET_VALID);
  });
});

describe('sub and other registered claims', () => {
  it('refuses sub missing, empty or not a string (ERR_TOKEN_CLAIM)', () => {
    for (const sub of [undefined, '', 42, ['user-1'], null]) expectRefused(verifier, token(key, { sub }), ErrorCodes.TOKEN_CLAIM);
  });

  it('refuses string claims of another type and roles that are not strings (ERR_TOKEN_CLAIM)', () => {
    for (const name of ['jti', 'sid', 'client_id', 'scope', 'email', 'name']) {
      expectRefused(verifier, token(key, { [name]: 1 }), ErrorCodes.TOKEN_CLAIM);
    }
    for (const roles of ['admin', [1], ['admin', null], { 0: 'admin' }])
      expectRefused(verifier, token(key, { roles }), ErrorCodes.TOKEN_CLAIM);
    expect(verifier.verify(token(key, { roles: ['admin'] })).roles).toEqual(['admin']);
  });

  it('returns frozen claims from a caching verifier, shared by every caller of the same token', () => {
    const t = token(key, { scope: 'read' });
    const first = verifier.verify(t);
    expect(Object.isFrozen(first)).toBe(true);
    expect(first).toMatchObject({ iss: ISSUER, sub: 'user-1', aud: AUDIENCE, scope: 'read', sid: 'sid-1' });
    verifier.verify(t); // admitted to the cache on its second use
    const cached = verifier.verify(t);
    expect(Object.isFrozen(cached)).toBe(true);
    expect(() => {
      (cached as { scope?: string }).scope = 'admin';
    }).toThrow(TypeError);
    expect(verifier.verify(t).scope).toBe('read');
  });

  it('returns each caller its own claims when there is no cache', () => {
    const uncached = verifierFor([key], { cache: false });
    const t = token(key, { scope: 'read' });
    const first = uncached.verify(t) as { scope?: string };
    first.scope = 'changed';
    expect(uncached.verify(t).scope).toBe('read');
  });
});

/** Changes one character in the middle of the signature. */
function flipMiddle(text: string): string {
  const i = text.lastIndexOf('.') + 20;
  return text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1);
}

describe('error messages', () => {
  // token leakage into logs: error text embedding the raw token (the Hono jwt middleware anti-pattern)
  it('never quote the token or any part of it', () => {
    const cases: [string, string][] = [
      [token(key, { iss: 'https://evil.example' }), ErrorCodes.TOKEN_CLAIM],
      [token(key, { exp: NOW - 3600 }), ErrorCodes.TOKEN_EXPIRED],
      [token(key, {}, { kid: 'unknown-kid-with-a-long-name' }), ErrorCodes.TOKEN_KEY],
      [token(key, {}, { typ: 'JWT' }), ErrorCodes.TOKEN_TYPE],
      [flipMiddle(token(key)), ErrorCodes.TOKEN_SIGNATURE],
      [`${token(key)}.x`, ErrorCodes.TOKEN_MALFORMED],
    ];
    for (const [text, code] of cases) {
      const err = caught(() => verifier.verify(text)) as AuthError;
      expect(err).toBeInstanceOf(AuthError);
      expect(err.code).toBe(code);
      for (const segment of text.split('.')) {
        if (segment.length > 3) expect(err.message).not.toContain(segment);
      }
      expect(err.message).not.toContain('user-1');
      expect(err.message).not.toContain('evil.example');
      expect(err.message).not.toContain('unknown-kid');
      expect(JSON.stringify(err)).not.toContain(text.slice(0, 20));
    }
  });
});
