import { AuthError, type ErrorCode, ErrorCodes } from '@tessera/core';

/**
 * The one table from token errors to HTTP answers (RFC 6750), shared by the auth server and
 * every resource service, so a client reads the same refusal wherever its token was checked.
 * Depends on `@tessera/core` alone: the server imports it as `@tessera/verify/refusals`
 * without pulling in the feed, the JWKS client or any adapter.
 */

/** A refusal, ready to send: status, JSON body and headers (RFC 6750). */
export interface Refusal {
  status: 400 | 401 | 403 | 503;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

// A description or scope goes inside a quoted-string of the challenge: quotes and backslashes
// would end it early, so they are dropped rather than escaped (no value here needs them).
const quoted = (s: string) => s.replace(/["\\]/g, '');

function refusal(status: Refusal['status'], error: string, description: string, challenge?: string): Refusal {
  const headers: Record<string, string> = {};
  if (challenge !== undefined) headers['www-authenticate'] = challenge;
  return { status, headers, body: { error, error_description: description } };
}

/**
 * The description given for a refused token, by core error code. Keyed by every `ErrorCode`, so
 * a code added to core fails the build here until it has its answer.
 */
export const TOKEN_DESCRIPTIONS: Readonly<Record<ErrorCode, string>> = {
  [ErrorCodes.TOKEN_MALFORMED]: 'the access token is invalid',
  [ErrorCodes.TOKEN_TOO_LARGE]: 'the access token is too large',
  [ErrorCodes.TOKEN_ALG]: 'the access token is invalid',
  [ErrorCodes.TOKEN_HEADER]: 'the access token is invalid',
  [ErrorCodes.TOKEN_KEY]: 'the access token is invalid',
  [ErrorCodes.TOKEN_SIGNATURE]: 'the access token is invalid',
  [ErrorCodes.TOKEN_EXPIRED]: 'the access token expired',
  [ErrorCodes.TOKEN_NOT_YET_VALID]: 'the access token is invalid',
  [ErrorCodes.TOKEN_CLAIM]: 'the access token is invalid',
  [ErrorCodes.TOKEN_TYPE]: 'the access token is invalid',
  [ErrorCodes.TOKEN_REVOKED]: 'the access token was revoked',
  [ErrorCodes.REVOCATION_UNAVAILABLE]: 'token revocation status is unknown; retry later',
  [ErrorCodes.TOKEN_DECRYPT]: 'the access token is invalid',
  // Key and option errors reach a request only through a misconfigured verifier; the client
  // still learns nothing more than that its token was not accepted.
  [ErrorCodes.KEY_INVALID]: 'the access token is invalid',
  [ErrorCodes.KEY_WEAK]: 'the access token is invalid',
  [ErrorCodes.KEY_UNAVAILABLE]: 'the access token is invalid',
  [ErrorCodes.INVALID_OPTION]: 'the access token is invalid',
};

/**
 * 401 `invalid_token` with the RFC 6750 challenge naming the error. For a token that was
 * sent and refused; `description` must never contain the token.
 */
export function invalidToken(description: string): Refusal {
  return refusal(401, 'invalid_token', description, `Bearer error="invalid_token", error_description="${quoted(description)}"`);
}

/**
 * The refusal for a token that failed verification. A failing-closed revocation feed is a 503
 * (the token may well be valid: a 401 would send the client to sign in again for nothing);
 * every other token error is a 401 `invalid_token`. Anything but an `AuthError` is a bug, not
 * a bad token, and is rethrown.
 *
 * @example
 * try { claims = await verifier.verify(token) } catch (err) { return send(tokenRefusal(err)) }
 */
export function tokenRefusal(err: unknown): Refusal {
  if (!(err instanceof AuthError)) throw err;
  const description = TOKEN_DESCRIPTIONS[err.code] ?? 'the access token is invalid';
  if (err.code === ErrorCodes.REVOCATION_UNAVAILABLE) return refusal(503, 'temporarily_unavailable', description);
  return invalidToken(description);
}

/** 401 `unauthorized` with a bare `WWW-Authenticate: Bearer`: no token was sent (RFC 6750 §3.1: no error code then). */
export function authenticationRequired(): Refusal {
  return refusal(401, 'unauthorized', 'authentication required', 'Bearer');
}

/** 400 `invalid_request`: a `Bearer` header without a token, or two Authorization headers (RFC 6750 §3.1). */
export function malformedAuthorization(): Refusal {
  return refusal(400, 'invalid_request', 'send one Authorization header: Bearer <token>', 'Bearer error="invalid_request"');
}

/** 403 `insufficient_scope` naming every scope the resource requires (RFC 6750 §3.1). */
export function insufficientScope(required: readonly string[]): Refusal {
  const scope = required.join(' ');
  return refusal(403, 'insufficient_scope', `requires scope: ${scope}`, `Bearer error="insufficient_scope", scope="${quoted(scope)}"`);
}

/** 403 `insufficient_role`: the token carries none of the roles. Roles are ours, not RFC 6750's, so no challenge. */
export function insufficientRole(anyOf: readonly string[]): Refusal {
  return refusal(403, 'insufficient_role', `requires one of the roles: ${anyOf.join(', ')}`);
}
