import type { RoleChange, Stores } from '@tessera/stores';
import { checkRoles, MAX_ROLES, roleNameProblem } from '../lib/roles.js';
import { AdminError } from './errors.js';
import { findUser } from './users.js';

/** What role changes take: the users store and the clock. */
export interface RoleDeps {
  stores: Pick<Stores, 'users'>;
  /** Milliseconds since the epoch. */
  clock: () => number;
}

function checkRole(role: unknown): string {
  const problem = roleNameProblem(role);
  if (problem) throw new AdminError('invalid_role', problem);
  return role as string;
}

/** One atomic change in the store; the roles after it. */
async function change(deps: RoleDeps, id: string, roleChange: RoleChange): Promise<string[]> {
  const roles = await deps.stores.users.changeRoles(id, roleChange, deps.clock());
  if (roles === null) throw new AdminError('user_not_found', 'no such user');
  return roles;
}

/** The user's roles as stored now. */
export async function rolesOf(deps: RoleDeps, emailOrId: string): Promise<{ id: string; roles: string[] }> {
  const user = await findUser(deps.stores.users, emailOrId);
  return { id: user.id, roles: [...user.roles] };
}

/**
 * Adds a role (a no-op when held). Tokens issued from now on carry it; a scope it allows is
 * granted from the next login or refresh.
 *
 * @throws {AdminError} `invalid_role` for a malformed name or a user at {@link MAX_ROLES}, `user_not_found`.
 */
export async function grantRole(deps: RoleDeps, emailOrId: string, role: string): Promise<string[]> {
  checkRole(role);
  const user = await findUser(deps.stores.users, emailOrId);
  if (!user.roles.includes(role) && user.roles.length >= MAX_ROLES) {
    throw new AdminError('invalid_role', `a user may hold at most ${MAX_ROLES} roles`);
  }
  return change(deps, user.id, { grant: [role] });
}

/**
 * Removes a role (a no-op when not held). The admin API reads roles from the store, so it stops
 * answering at once; a scope the role allowed drops at the session's next refresh.
 */
export async function revokeRole(deps: RoleDeps, emailOrId: string, role: string): Promise<string[]> {
  checkRole(role);
  const user = await findUser(deps.stores.users, emailOrId);
  return change(deps, user.id, { revoke: [role] });
}

/** Replaces the roles (checked, unique, sorted). */
export async function setRoles(deps: RoleDeps, emailOrId: string, roles: readonly unknown[]): Promise<{ id: string; roles: string[] }> {
  if (!Array.isArray(roles)) throw new AdminError('invalid_request', 'roles must be a list of role names');
  const checked = checkRoles(roles);
  if ('problem' in checked) throw new AdminError('invalid_role', checked.problem);
  const user = await findUser(deps.stores.users, emailOrId);
  return { id: user.id, roles: await change(deps, user.id, { set: checked.roles }) };
}
