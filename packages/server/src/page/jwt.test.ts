import { describe, expect, it } from 'vitest';
import { budgets, COOKIE_LIMIT, decodeToken, HEADER_LIMIT, isEncrypted } from './jwt.js';

// What a signer does: UTF-8 bytes, base64url without padding (browser APIs, as the page has).
const encode = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const b64url = (value: unknown) => encode(new TextEncoder().encode(JSON.stringify(value)));
const token = (header: unknown, claims: unknown) => `${b64url(header)}.${b64url(claims)}.c2lnbmF0dXJl`;

describe('decodeToken', () => {
  it('reads the header and claims of a JWS compact token, UTF-8 included', () => {
    const decoded = decodeToken(token({ alg: 'ES256', typ: 'at+jwt' }, { sub: 'u1', name: 'Zoë 日本', exp: 1_800_000_000 }));
    expect(decoded).toEqual({ header: { alg: 'ES256', typ: 'at+jwt' }, claims: { sub: 'u1', name: 'Zoë 日本', exp: 1_800_000_000 } });
  });

  it('reads nothing from what is not a readable JWS: JWE, garbage, arrays, bad base64url', () => {
    expect(decodeToken('a.b.c.d.e')).toBeNull();
    expect(decodeToken('not-a-token')).toBeNull();
    expect(decodeToken(`${b64url([1])}.${b64url({})}.x`)).toBeNull();
    expect(decodeToken(`${b64url({ alg: 'ES256' })}.e30+.x`)).toBeNull();
    expect(decodeToken(`${b64url({ alg: 'ES256' })}.${encode(new Uint8Array([0xff, 0xfe]))}.x`)).toBeNull();
  });

  it('tells an encrypted token (five parts) apart', () => {
    expect(isEncrypted('a.b.c.d.e')).toBe(true);
    expect(isEncrypted('a.b.c')).toBe(false);
  });
});

describe('budgets', () => {
  it('measures the token in a cookie (name=value) and in the Authorization header line', () => {
    const t = 'x'.repeat(1000);
    const [cookie, header] = budgets(t, 'at');
    expect(cookie).toMatchObject({ used: 1003, limit: COOKIE_LIMIT });
    expect(cookie?.ratio).toBeCloseTo(1003 / 4096);
    expect(header).toMatchObject({ used: 'Authorization: Bearer '.length + 1000, limit: HEADER_LIMIT });
  });

  it('a token too big for a cookie goes past 1', () => {
    expect(budgets('x'.repeat(5000))[0]?.ratio).toBeGreaterThan(1);
  });
});
