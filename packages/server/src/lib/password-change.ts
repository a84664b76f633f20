import type { Stores } from '@tessera/stores';
import { RefusalCodes, Refused } from './errors.js';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { type RevokeDeps, revokeUserSessions } from './revoke.js';
import { ACCOUNT_RULE, type LoginThrottle } from './throttle.js';

/** What {@link changePassword} uses: the users, the throttle, and what revoking the other sessions takes. */
export interface PasswordChangeDeps extends RevokeDeps {
  stores: Pick<Stores, 'users' | 'sessions' | 'refreshTokens' | 'revocations'>;
  throttle: Pick<LoginThrottle, 'attempt'>;
}

/** A password change by a signed-in user. */
export interface PasswordChange {
  userId: string;
  /** The session making the change, which stays signed in (null: a token without a session). */
  sid: string | null;
  currentPassword: string;
  newPassword: string;
}

/**
 * Changes a user's password after checking the current one (throttled per account: a stolen
 * session must not become a password oracle), then revokes every other session of the user.
 *
 * @throws {Refused} `ACCOUNT_GONE`, `THROTTLED`, `INVALID_GRANT` for a wrong current password or a change
 * that lost the race to another one, `WEAK_PASSWORD`.
 */
export async function changePassword(deps: PasswordChangeDeps, change: PasswordChange): Promise<void> {
  const user = await deps.stores.users.findById(change.userId);
  if (!user) throw new Refused(RefusalCodes.ACCOUNT_GONE, 'the account no longer exists');
  // Charged before the check and cleared once the current password is right, as logins are.
  await deps.throttle.attempt([[`password:acct:${user.id}`, ACCOUNT_RULE]], async () => {
    if (!(await verifyPassword(user.passwordHash, change.currentPassword))) {
      throw new Refused(RefusalCodes.INVALID_GRANT, 'the current password is wrong');
    }
  });
  const problem = passwordProblem(change.newPassword, user.email);
  if (problem) throw new Refused(RefusalCodes.WEAK_PASSWORD, problem);
  const to = await hashPassword(change.newPassword);
  // Compare-and-set on the hash the current password was checked against: of two changes racing
  // from one password, the loser's proof is stale by the time it writes.
  if (!(await deps.stores.users.updatePassword(user.id, { from: user.passwordHash, to }, deps.clock()))) {
    throw new Refused(RefusalCodes.INVALID_GRANT, 'the password was changed by another request; sign in again');
  }
  await revokeUserSessions(deps, user.id, 'password_change', change.sid ?? undefined);
}
