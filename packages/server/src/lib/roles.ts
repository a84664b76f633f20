/**
 * A role name: lower-case ASCII, starting with a letter, then letters, digits and `_ . : -`, at
 * most 64 characters. Narrow on purpose: roles travel in access tokens (`roles` claim) and
 * configuration (`TESSERA_SCOPE_ROLES`, split on `|` and `=`), so they must never need escaping.
 */
export const ROLE_NAME = /^[a-z][a-z0-9_.:-]{0,63}$/;

/** Most roles one user may hold: every access token carries them all. */
export const MAX_ROLES = 32;

/** Why `role` is not a valid role name, or null when it is. Never echoes more than a short prefix of the input. */
export function roleNameProblem(role: unknown): string | null {
  if (typeof role !== 'string') return 'a role must be a string';
  if (ROLE_NAME.test(role)) return null;
  return `role ${JSON.stringify(role.slice(0, 64))} is invalid: lower-case letters, digits and _ . : - only, starting with a letter, at most 64 characters`;
}

/**
 * Role names checked and made unique and sorted (the order stores keep). Returns the reason they
 * are refused instead when one is malformed or there are more than {@link MAX_ROLES}.
 */
export function checkRoles(roles: readonly unknown[]): { roles: string[] } | { problem: string } {
  for (const role of roles) {
    const problem = roleNameProblem(role);
    if (problem) return { problem };
  }
  const unique = [...new Set(roles as string[])].sort();
  if (unique.length > MAX_ROLES) return { problem: `a user may hold at most ${MAX_ROLES} roles` };
  return { roles: unique };
}

/**
 * `TESSERA_SCOPE_ROLES`: which roles a scope needs. A scope listed here is granted only to a user
 * holding one of its roles; a scope not listed, to any user.
 */
export type ScopeRoles = ReadonlyMap<string, ReadonlySet<string>>;

/** Whether a user holding `roles` may be granted `scope`. */
export function mayHoldScope(scope: string, roles: readonly string[], scopeRoles: ScopeRoles): boolean {
  const needed = scopeRoles.get(scope);
  return needed === undefined || roles.some((r) => needed.has(r));
}
