import { beforeAll, describe, expect, it } from 'vitest';
import { checkRoles, checkScopes, createVerifier, extractToken, type ResourceVerifier, type VerifyResult, verifyRequest } from './index.js';
import { AUDIENCE, ISSUER, manualClock, type TestKey, testKey } from './test-support.js';

const clock = manualClock();
let key: TestKey;
let verifier: ResourceVerifier;

beforeAll(async () => {
  key = await testKey(clock);
  verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: [key.key], clock });
});

function refusal(result: VerifyResult) {
  if (result.ok) throw new Error('expected a refusal');
  return result.refusal;
}

describe('verifyRequest: RFC 6750 answers', () => {
  it('answers claims and the token for a valid Bearer token', async () => {
    const token = key.issue({ scope: 'orders:read' });
    const result = await verifyRequest(verifier, { authorization: `Bearer ${token}` });
    expect(result).toMatchObject({ ok: true, token, claims: { sub: 'user-1', scope: 'orders:read' } });
  });

  it('accepts the scheme in any case, and the header as an array', async () => {
    const token = key.issue();
    expect((await verifyRequest(verifier, { authorization: `bearer ${token}` })).ok).toBe(true);
    expect((await verifyRequest(verifier, { authorization: [`Bearer ${token}`] })).ok).toBe(true);
  });

  it('two Authorization headers: 400 invalid_request, whichever of them is valid', async () => {
    const token = key.issue();
    for (const authorization of [
      [`Bearer ${token}`, 'Bearer other'],
      ['Bearer other', `Bearer ${token}`],
    ]) {
      const result = await verifyRequest(verifier, { authorization });
      expect(result.ok ? null : result.refusal.body.error).toBe('invalid_request');
      expect(result.ok ? null : result.refusal.status).toBe(400);
    }
  });

  it('no credentials: 401 with a bare `Bearer` challenge (no error code, RFC 6750 §3.1)', async () => {
    for (const source of [{}, { authorization: '' }, { authorization: undefined }]) {
      const r = refusal(await verifyRequest(verifier, source));
      expect(r.status).toBe(401);
      expect(r.headers).toEqual({ 'www-authenticate': 'Bearer' });
      expect(Object.keys(r.body).sort()).toEqual(['error', 'error_description']);
    }
  });

  it('a bad token: 401 invalid_token, in the body and the challenge, never echoing the token', async () => {
    const tokens = ['not.a.token', `${key.issue()}x`, key.issue({ aud: 'billing' }), 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.AAAA'];
    for (const token of tokens) {
      const r = refusal(await verifyRequest(verifier, { authorization: `Bearer ${token}` }));
      expect(r.status).toBe(401);
      expect(r.body.error).toBe('invalid_token');
      expect(r.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token", error_description="[^"]*"$/);
      expect(JSON.stringify(r)).not.toContain(token);
      const payload = token.split('.')[1] as string;
      if (payload.length > 8) expect(JSON.stringify(r)).not.toContain(payload);
    }
  });

  it('says why an expired token failed, in a stable description', async () => {
    const local = manualClock();
    const v = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: [key.key], clock: local });
    const token = key.issue({ ttl: 60 });
    local.advance(120_000);
    const r = refusal(await verifyRequest(v, { authorization: `Bearer ${token}` }));
    expect(r.body).toEqual({ error: 'invalid_token', error_description: 'the access token expired' });
  });

  it('another scheme: 401 with the bare challenge, as for no credentials (RFC 6750 §3.1)', async () => {
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Token abc', 'Bearerabc', 'Digest']) {
      const r = refusal(await verifyRequest(verifier, { authorization }));
      expect(r.status, authorization).toBe(401);
      expect(r.body.error).toBe('unauthorized');
      expect(r.headers).toEqual({ 'www-authenticate': 'Bearer' });
      expect(JSON.stringify(r)).not.toContain('dXNlcjpwYXNz');
    }
  });

  it('a Bearer header without a token: 400 invalid_request (RFC 6750 §3.1)', async () => {
    for (const authorization of ['Bearer', 'Bearer   ', 'bearer', 'Bearer\t']) {
      const r = refusal(await verifyRequest(verifier, { authorization }));
      expect(r.status, authorization).toBe(400);
      expect(r.body.error).toBe('invalid_request');
      expect(r.headers['www-authenticate']).toBe('Bearer error="invalid_request"');
    }
  });

  it('reads the token from a cookie only when cookieName is set, and the header wins over the cookie', async () => {
    const token = key.issue({ sub: 'from-cookie' });
    const cookie = `theme=dark; at=${token}; other=1`;
    expect(refusal(await verifyRequest(verifier, { cookie })).status).toBe(401);
    const fromCookie = await verifyRequest(verifier, { cookie }, { cookieName: 'at' });
    expect(fromCookie).toMatchObject({ ok: true, claims: { sub: 'from-cookie' } });
    expect(refusal(await verifyRequest(verifier, { cookie }, { cookieName: 'missing' })).headers['www-authenticate']).toBe('Bearer');
    const header = key.issue({ sub: 'from-header' });
    const both = await verifyRequest(verifier, { authorization: `Bearer ${header}`, cookie }, { cookieName: 'at' });
    expect(both).toMatchObject({ ok: true, claims: { sub: 'from-header' } });
    expect(extractToken({ cookie: ['a=1', `at=${token}`] }, { cookieName: 'at' })).toBe(token);
  });
});

describe('scope and role guards', () => {
  it('passes when every scope is granted; otherwise 403 insufficient_scope naming the scope', async () => {
    const claims = await verifier.verify(key.issue({ scope: 'orders:read orders:write' }));
    expect(checkScopes(claims, ['orders:read'])).toBeNull();
    expect(checkScopes(claims, ['orders:read', 'orders:write'])).toBeNull();
    const r = checkScopes(claims, ['orders:read', 'orders:delete']);
    expect(r?.status).toBe(403);
    expect(r?.body.error).toBe('insufficient_scope');
    expect(r?.headers['www-authenticate']).toBe('Bearer error="insufficient_scope", scope="orders:read orders:delete"');
  });

  it('a token without a scope claim has no scopes', async () => {
    const claims = await verifier.verify(key.issue());
    expect(checkScopes(claims, ['orders:read'])?.status).toBe(403);
    expect(checkScopes(claims, [])).toBeNull();
  });

  it('passes with any one of the roles; otherwise 403', async () => {
    const claims = await verifier.verify(key.issue({ roles: ['support'] }));
    expect(checkRoles(claims, ['admin', 'support'])).toBeNull();
    const r = checkRoles(claims, ['admin']);
    expect(r).toMatchObject({ status: 403, body: { error: 'insufficient_role' } });
    expect(checkRoles(await verifier.verify(key.issue()), ['admin'])?.status).toBe(403);
  });
});
