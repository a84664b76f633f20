import { RefusalCodes, Refused } from './errors.js';
import type { GrantOptions } from './grants.js';
import { mayHoldScope, type ScopeRoles } from './roles.js';

// RFC 6749 §3.3: scope tokens are printable ASCII but for space, `"` and `\`, one space apart.
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The client id of a token request that names none. */
export const DEFAULT_CLIENT_ID = 'tessera';

/**
 * Client id and scope of a token request. Every requested scope must be one the server
 * grants (TESSERA_SCOPES): a client cannot mint itself a scope a resource server checks,
 * at login or on refresh. Which of them the user's roles allow is decided once the user is
 * known ({@link scopeForRoles}).
 */
export function grantOptions(request: { client_id?: string; scope?: string }, allowed: ReadonlySet<string>): GrantOptions {
  if (request.client_id !== undefined && !CLIENT_ID.test(request.client_id)) {
    throw new Refused(RefusalCodes.INVALID_REQUEST, 'client_id is invalid');
  }
  if (request.scope !== undefined && request.scope !== '') {
    if (!SCOPE.test(request.scope)) throw new Refused(RefusalCodes.INVALID_SCOPE, 'scope is malformed');
    if (!request.scope.split(' ').every((s) => allowed.has(s))) {
      throw new Refused(RefusalCodes.INVALID_SCOPE, 'a requested scope is not granted by this server');
    }
  }
  return { clientId: request.client_id ?? DEFAULT_CLIENT_ID, scope: request.scope || undefined };
}

/**
 * The part of a scope (space-separated) a user holding `roles` may be granted, in the order
 * asked: a scope `TESSERA_SCOPE_ROLES` lists needs one of its roles, any other is granted to
 * every user. Undefined when nothing is left. Checked once the user is known (after the password,
 * or on refresh with the user's roles as they are now, so a revoked role drops its scope).
 */
export function scopeForRoles(scope: string | undefined, roles: readonly string[], scopeRoles: ScopeRoles): string | undefined {
  if (scope === undefined) return undefined;
  const granted = scope.split(' ').filter((s) => s !== '' && mayHoldScope(s, roles, scopeRoles));
  return granted.length > 0 ? granted.join(' ') : undefined;
}
