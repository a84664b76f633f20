import type { Verifier } from '@tessera/core';
import { findRefreshToken } from './grants.js';
import { acceptedClaims } from './introspection.js';
import { type RevocationReason, type RevokeDeps, revokeSession } from './revoke.js';

/** What revoking by token uses: revoking, and the verifier for access tokens. */
export interface TokenRevocationDeps extends RevokeDeps {
  verifier: Pick<Verifier, 'verify'>;
}

/**
 * Ends the session a refresh token belongs to. An unknown or invalid token has nothing left to
 * end (RFC 7009 §2.2): that is no error. Returns whether a session was found.
 */
export async function revokeByRefreshToken(deps: RevokeDeps, presented: unknown, reason: RevocationReason): Promise<boolean> {
  const found = await findRefreshToken(deps, presented);
  if (found) await revokeSession(deps, found.row.sessionId, reason);
  return found !== null;
}

/** RFC 7009: ends the session of a refresh or access token; invalid tokens are ignored. */
export async function revokeToken(deps: TokenRevocationDeps, token: string): Promise<void> {
  if (token.startsWith('rt_')) {
    await revokeByRefreshToken(deps, token, 'token_revocation');
    return;
  }
  const sid = acceptedClaims(deps.verifier, token)?.sid;
  if (sid) await revokeSession(deps, sid, 'token_revocation');
}
