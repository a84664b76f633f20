import { AuthError, ErrorCodes, TokenExpiredError, TokenRevokedError } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import {
  authenticationRequired,
  insufficientRole,
  insufficientScope,
  malformedAuthorization,
  type Refusal,
  TOKEN_DESCRIPTIONS,
  tokenRefusal,
} from './refusals.js';

const INVALID_TOKEN = /^Bearer error="invalid_token", error_description="[^"\\]+"$/;

function expectShape(r: Refusal): void {
  expect(Object.keys(r.body).sort()).toEqual(['error', 'error_description']);
  expect(r.body.error_description).not.toBe('');
}

describe('tokenRefusal: the one table from token errors to HTTP', () => {
  it('maps every core error code to a refusal with a description', () => {
    for (const code of Object.values(ErrorCodes)) {
      expect(TOKEN_DESCRIPTIONS[code], code).toEqual(expect.any(String));
      const r = tokenRefusal(new AuthError(code, 'detail the client never sees'));
      expectShape(r);
      expect(JSON.stringify(r)).not.toContain('detail the client never sees');
      if (code === ErrorCodes.REVOCATION_UNAVAILABLE) continue;
      expect(r.status, code).toBe(401);
      expect(r.body.error, code).toBe('invalid_token');
      expect(r.headers, code).toEqual({
        'www-authenticate': `Bearer error="invalid_token", error_description="${r.body.error_description}"`,
      });
    }
  });

  it('tells expired, revoked and oversized tokens apart; everything else is just invalid', () => {
    const description = (err: AuthError) => tokenRefusal(err).body.error_description;
    expect(description(new TokenExpiredError(1))).toBe('the access token expired');
    expect(description(new TokenRevokedError())).toBe('the access token was revoked');
    expect(description(new AuthError(ErrorCodes.TOKEN_TOO_LARGE, 'x'))).toBe('the access token is too large');
    for (const code of [ErrorCodes.TOKEN_SIGNATURE, ErrorCodes.TOKEN_KEY, ErrorCodes.TOKEN_ALG, ErrorCodes.TOKEN_MALFORMED]) {
      expect(description(new AuthError(code, 'x'))).toBe('the access token is invalid');
    }
  });

  it('a failing-closed revocation feed is a 503, not a 401: the token may be valid, signing in again would not help', () => {
    expect(tokenRefusal(new AuthError(ErrorCodes.REVOCATION_UNAVAILABLE, 'feed down'))).toEqual({
      status: 503,
      headers: {},
      body: { error: 'temporarily_unavailable', error_description: 'token revocation status is unknown; retry later' },
    });
  });

  it('an unknown code from a newer core still gets the generic 401', () => {
    const r = tokenRefusal(new AuthError('ERR_SOMETHING_NEW' as never, 'x'));
    expect(r.status).toBe(401);
    expect(r.body.error_description).toBe('the access token is invalid');
    expect(r.headers['www-authenticate']).toMatch(INVALID_TOKEN);
  });

  it('rethrows what is not an AuthError: a bug is not a bad token', () => {
    const bug = new TypeError('boom');
    expect(() => tokenRefusal(bug)).toThrow(bug);
    expect(() => tokenRefusal('a string')).toThrow();
  });

  it('no description would break out of the quoted challenge', () => {
    for (const description of Object.values(TOKEN_DESCRIPTIONS)) expect(description).not.toMatch(/["\\]/);
  });
});

describe('request refusals', () => {
  it('no token: 401 unauthorized with a bare Bearer challenge (RFC 6750 §3.1: no error code)', () => {
    expect(authenticationRequired()).toEqual({
      status: 401,
      headers: { 'www-authenticate': 'Bearer' },
      body: { error: 'unauthorized', error_description: 'authentication required' },
    });
  });

  it('a malformed Authorization header: 400 invalid_request, still with the challenge', () => {
    expect(malformedAuthorization()).toEqual({
      status: 400,
      headers: { 'www-authenticate': 'Bearer error="invalid_request"' },
      body: { error: 'invalid_request', error_description: 'send one Authorization header: Bearer <token>' },
    });
  });

  it('insufficient scope: 403 naming every required scope, in the body and the challenge', () => {
    expect(insufficientScope(['orders:read', 'orders:write'])).toEqual({
      status: 403,
      headers: { 'www-authenticate': 'Bearer error="insufficient_scope", scope="orders:read orders:write"' },
      body: { error: 'insufficient_scope', error_description: 'requires scope: orders:read orders:write' },
    });
  });

  it('a scope with a quote cannot end the challenge early', () => {
    expect(insufficientScope(['a"b\\c']).headers['www-authenticate']).toBe('Bearer error="insufficient_scope", scope="abc"');
  });

  it('insufficient role: 403 naming the roles, without a Bearer challenge (roles are not RFC 6750)', () => {
    expect(insufficientRole(['admin', 'owner'])).toEqual({
      status: 403,
      headers: {},
      body: { error: 'insufficient_role', error_description: 'requires one of the roles: admin, owner' },
    });
  });

  it('every refusal is a fresh object: a caller adding a header cannot change the next answer', () => {
    authenticationRequired().headers['x-extra'] = '1';
    expect(authenticationRequired().headers).toEqual({ 'www-authenticate': 'Bearer' });
  });
});
