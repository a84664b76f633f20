import { type AccessTokenClaims, AuthError, bearerCredential, type Verifier } from '@tessera/core';
import { malformedAuthorization, tokenRefusal } from '@tessera/verify/refusals';
import type { FastifyRequest } from 'fastify';
import { header } from './header.js';
import { RefusalError } from './refusals.js';

/**
 * The verified claims of the request's `Authorization: Bearer` access token, checked locally
 * (no store read, no promise). Null when there is no Bearer credential (no header, or another
 * scheme such as `Basic`: RFC 6750 §3.1 answers those like no credentials at all).
 *
 * @throws {RefusalError} 400 for a malformed header (`Bearer` without a token, two values joined
 *   by a comma), or the token refusal `@tessera/verify` gives every verifier.
 */
export function bearerClaims(verifier: Pick<Verifier, 'verify'>, request: FastifyRequest): Readonly<AccessTokenClaims> | null {
  const token = bearerCredential(header(request, 'authorization'));
  if (token === false) throw new RefusalError(malformedAuthorization());
  if (token === null) return null;
  try {
    return verifier.verify(token);
  } catch (err) {
    // Anything but a token error is a bug, not a bad token: it stays a 500.
    if (err instanceof AuthError) throw new RefusalError(tokenRefusal(err));
    throw err;
  }
}
