import { EmailTakenError, type User, type UserStore } from '@tessera/stores';
import { Refused } from '../lib/errors.js';
import { normalizeEmail } from '../lib/passwords.js';
import { checkAccount, newUser } from '../lib/registration.js';
import { revokeUserSessions } from '../lib/revoke.js';
import { checkRoles } from '../lib/roles.js';
import type { AdminDeps } from './context.js';
import { AdminError } from './errors.js';
import type { UserView } from './types.js';
import { userView } from './views.js';

/** Users per page of {@link listUsers} unless asked otherwise, and the most a page may hold. */
export const DEFAULT_USER_PAGE = 100;
export const MAX_USER_PAGE = 500;

const notFound = () => new AdminError('user_not_found', 'no such user');

/**
 * The user named by id or by email (an argument containing `@` is an email, normalised as at
 * sign-up).
 *
 * @throws {AdminError} `invalid_request` for an empty or unusable argument, `user_not_found`.
 */
export async function findUser(users: Pick<UserStore, 'findById' | 'findByEmail'>, emailOrId: string): Promise<User> {
  // Control characters (a NUL byte above all) are in no id or email, and some databases refuse them.
  if (typeof emailOrId !== 'string' || emailOrId.trim() === '' || emailOrId.length > 1024 || /\p{Cc}/u.test(emailOrId)) {
    throw new AdminError('invalid_request', 'name a user by id or email');
  }
  let user: User | null;
  if (emailOrId.includes('@')) {
    const email = normalizeEmail(emailOrId);
    if (email === null) throw notFound();
    user = await users.findByEmail(email);
  } else {
    user = await users.findById(emailOrId.trim());
  }
  if (!user) throw notFound();
  return user;
}

/** The account refusals of the sign-up policy, as administrative errors. */
function fromRefusal(err: unknown): never {
  if (err instanceof Refused) {
    if (err.code === 'WEAK_PASSWORD') throw new AdminError('weak_password', err.message);
    if (err.code === 'INVALID_REQUEST') throw new AdminError('invalid_request', err.message);
  }
  throw err;
}

/**
 * Creates an account under the sign-up policy (email normalised, password strength, name
 * checked), with `roles` when given. Not throttled: an administrator is no anonymous client.
 */
export async function addUser(
  deps: Pick<AdminDeps, 'stores' | 'clock'>,
  input: { email: string; password: string; name?: string | null; roles?: readonly string[] },
): Promise<UserView> {
  let account: ReturnType<typeof checkAccount>;
  try {
    account = checkAccount(input);
  } catch (err) {
    fromRefusal(err);
  }
  const checked = checkRoles(input.roles ?? []);
  if ('problem' in checked) throw new AdminError('invalid_role', checked.problem);
  const user = await newUser(account, input.password, checked.roles, deps.clock());
  try {
    await deps.stores.users.create(user);
  } catch (err) {
    if (err instanceof EmailTakenError) throw new AdminError('email_taken', 'an account with this email exists');
    throw err;
  }
  return userView(user);
}

/** One page of users ordered by email; `next` is the `after` of the following page, null on the last. */
export async function listUsers(
  deps: Pick<AdminDeps, 'stores'>,
  page: { limit?: number; after?: string } = {},
): Promise<{ users: UserView[]; next: string | null }> {
  const limit = page.limit ?? DEFAULT_USER_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_USER_PAGE) {
    throw new AdminError('invalid_request', `limit must be an integer from 1 to ${MAX_USER_PAGE}`);
  }
  if (page.after !== undefined && (typeof page.after !== 'string' || page.after.length > 1024 || /\p{Cc}/u.test(page.after))) {
    throw new AdminError('invalid_request', 'after must be the next value of the previous page');
  }
  // One more than asked: whether a next page exists, without an empty last page.
  const found = await deps.stores.users.list({ limit: limit + 1, ...(page.after ? { after: page.after } : {}) });
  const rows = found.slice(0, limit);
  return { users: rows.map(userView), next: found.length > limit ? (rows[rows.length - 1] as User).email : null };
}

/** A user, with how many live sessions it holds. */
export async function showUser(deps: Pick<AdminDeps, 'stores' | 'clock'>, emailOrId: string): Promise<UserView & { sessions: number }> {
  const user = await findUser(deps.stores.users, emailOrId);
  const sessions = await deps.stores.sessions.listActive(user.id, deps.clock());
  return { ...userView(user), sessions: sessions.length };
}

/**
 * Disables an account: the mark first, then every session revoked with its event (as
 * log-out-everywhere does), so a login racing this sees the mark when it re-reads the user, and
 * running nodes and verifiers hear of the sessions at once. Disabling a disabled account keeps
 * its first time and revokes again whatever an interrupted earlier call left.
 */
export async function disableUser(deps: AdminDeps, emailOrId: string): Promise<UserView> {
  const user = await findUser(deps.stores.users, emailOrId);
  if (user.disabledAt === null || user.disabledAt === undefined) {
    const now = deps.clock();
    if (!(await deps.stores.users.setDisabled(user.id, now, now))) throw notFound();
  }
  await revokeUserSessions(deps, user.id, 'admin');
  return userView(await reread(deps, user.id));
}

/** Lifts the mark: the account can sign in again (its sessions stay ended). */
export async function enableUser(deps: Pick<AdminDeps, 'stores' | 'clock'>, emailOrId: string): Promise<UserView> {
  const user = await findUser(deps.stores.users, emailOrId);
  if (user.disabledAt !== null && user.disabledAt !== undefined) {
    if (!(await deps.stores.users.setDisabled(user.id, null, deps.clock()))) throw notFound();
  }
  return userView(await reread(deps, user.id));
}

/**
 * Deletes an account: disabled first, then every session revoked (events, so its access tokens
 * are refused everywhere at once), then the user. The mark ends a login racing this as it ends
 * one racing {@link disableUser}: deleting the row alone would leave a session created after the
 * revocation without an event for its access tokens. Its email can be registered again.
 */
export async function deleteUser(deps: AdminDeps, emailOrId: string): Promise<void> {
  const user = await findUser(deps.stores.users, emailOrId);
  if (user.disabledAt === null || user.disabledAt === undefined) {
    const now = deps.clock();
    if (!(await deps.stores.users.setDisabled(user.id, now, now))) throw notFound();
  }
  await revokeUserSessions(deps, user.id, 'admin');
  if (!(await deps.stores.users.delete(user.id))) throw notFound();
}

async function reread(deps: Pick<AdminDeps, 'stores'>, id: string): Promise<User> {
  const user = await deps.stores.users.findById(id);
  if (!user) throw notFound();
  return user;
}
