import type { Session, User, UserStore } from '@tessera/stores';
import type { Config } from '../config.js';
import { RefusalCodes, Refused } from './errors.js';
import { scopeForRoles } from './grant-options.js';
import { createTokenSession, firstTokens, type GrantDeps, type GrantOptions, type TokenResponse } from './grants.js';
import type { Metrics } from './metrics.js';
import { MAX_PASSWORD_LENGTH, normalizeEmail, verifyPassword } from './passwords.js';
import { type RevokeDeps, revokeSession, revokeSessions } from './revoke.js';
import { type ClientInfo, createCookieSession, type SessionDeps } from './sessions.js';
import { type LoginThrottle, loginTargets } from './throttle.js';

/** What {@link login} uses. */
export interface LoginDeps {
  users: Pick<UserStore, 'findByEmail'>;
  throttle: LoginThrottle;
  metrics: Pick<Metrics, 'logins'>;
  /** Hash verified against when a login names an unknown user, so both cost the same. */
  dummyHash: string;
}

/** One login attempt, as the client sent it. */
export interface LoginAttempt {
  email: unknown;
  password: unknown;
  /** The client's address, throttled alongside the account. */
  ip: string;
  /** Which kind of login, for the metrics. */
  mode: 'jwt' | 'session';
}

/**
 * Checks a login's credentials under throttling, by account and by client address. Unknown users
 * are verified against a dummy hash, so they cost the same time and get the same answer as a
 * wrong password; both count as failures on the same identifiers. During a back-off every attempt
 * is refused, right password or not.
 *
 * A disabled account is refused only after its right password: a wrong one gets the usual answer,
 * so the mark tells a guesser nothing.
 *
 * @throws {Refused} `INVALID_CREDENTIALS` for a wrong email or password, `THROTTLED` during a back-off,
 * `ACCOUNT_DISABLED` for a disabled account's right password.
 */
export async function login(deps: LoginDeps, attempt: LoginAttempt): Promise<User> {
  const email = normalizeEmail(attempt.email);
  // An unparseable identifier is still throttled, under its own (bounded) spelling.
  const account = email ?? (typeof attempt.email === 'string' ? attempt.email.trim().toLowerCase().slice(0, 256) : '');
  let user: User;
  try {
    user = await deps.throttle.attempt(loginTargets(account, attempt.ip), () => checkPassword(deps, email, attempt.password));
  } catch (err) {
    if (err instanceof Refused) {
      const result = err.code === RefusalCodes.THROTTLED ? 'throttled' : 'failure';
      deps.metrics.logins.inc({ mode: attempt.mode, result });
    }
    throw err;
  }
  if (isDisabled(user)) {
    deps.metrics.logins.inc({ mode: attempt.mode, result: 'disabled' });
    throw accountDisabled();
  }
  deps.metrics.logins.inc({ mode: attempt.mode, result: 'success' });
  return user;
}

/** Whether an administrator disabled the account (a row stored before the mark existed has none). */
export const isDisabled = (user: Pick<User, 'disabledAt'>): boolean => user.disabledAt !== null && user.disabledAt !== undefined;

const accountDisabled = () => new Refused(RefusalCodes.ACCOUNT_DISABLED, 'account is disabled');

async function checkPassword(deps: LoginDeps, email: string | null, password: unknown): Promise<User> {
  const user = email ? await deps.users.findByEmail(email) : null;
  const candidate = typeof password === 'string' && password.length <= MAX_PASSWORD_LENGTH * 4 ? password : '';
  const matches = await verifyPassword(user?.passwordHash ?? deps.dummyHash, candidate);
  if (!user || !matches || candidate === '') throw new Refused(RefusalCodes.INVALID_CREDENTIALS, 'invalid email or password');
  return user;
}

/**
 * What signing in takes beyond {@link login}: re-reading the user, ending sessions (the cap, or a
 * login overtaken by a password change), and the cap itself.
 */
export type SignInDeps = LoginDeps &
  RevokeDeps & {
    users: Pick<UserStore, 'findById'>;
    config: Pick<Config, 'maxSessionsPerUser' | 'scopeRoles'>;
  };

/** What {@link signInWithCookie} takes. */
export type CookieSignInDeps = SignInDeps & SessionDeps;

/** What {@link signInWithToken} takes. */
export type TokenSignInDeps = SignInDeps & GrantDeps;

/** A cookie login's outcome: the user, the cookie value `sid.secret` and the session's CSRF token. */
export interface CookieSignIn {
  user: User;
  cookie: string;
  csrfToken: string;
}

/**
 * Cookie login: checks the credentials ({@link login}), creates a session, and hands it out only
 * once {@link confirmLogin} has held and the user's sessions are within the cap.
 *
 * @throws {Refused} as {@link login}; `INVALID_CREDENTIALS` too when the password changed meanwhile.
 */
export async function signInWithCookie(deps: CookieSignInDeps, attempt: LoginAttempt, client: ClientInfo): Promise<CookieSignIn> {
  const user = await login(deps, attempt);
  const { session, cookie, csrfToken } = await createCookieSession(deps, user, client);
  await confirmLogin(deps, user, session);
  return { user, cookie, csrfToken };
}

/**
 * Token login (the password grant): checks the credentials ({@link login}), narrows the requested
 * scope to what the user's roles allow, creates a refresh family bound to that scope, and issues
 * tokens only once {@link confirmLogin} has held and the user's sessions are within the cap.
 *
 * @throws {Refused} as {@link login}; `INVALID_CREDENTIALS` too when the password changed meanwhile;
 * `INVALID_SCOPE` when scopes were asked for and the user's roles allow none of them.
 */
export async function signInWithToken(
  deps: TokenSignInDeps,
  attempt: LoginAttempt,
  client: ClientInfo,
  options: GrantOptions,
): Promise<TokenResponse> {
  const user = await login(deps, attempt);
  const scope = scopeForRoles(options.scope, user.roles, deps.config.scopeRoles);
  if (options.scope !== undefined && scope === undefined) {
    throw new Refused(RefusalCodes.INVALID_SCOPE, 'none of the requested scopes is granted to this account');
  }
  const granted = { ...options, scope };
  const created = await createTokenSession(deps, user, client, granted);
  await confirmLogin(deps, user, created.session);
  return firstTokens(deps, user, created, granted);
}

/**
 * Between creating a login's session and handing it out: re-reads the user's password hash, and
 * ends the session if it is no longer the hash the login verified. A password change sets the
 * hash first, then lists and revokes the live sessions; a session created before that listing is
 * revoked by it, and one created after it sees the new hash here, so no login with the old
 * password outlives the change. Disabling works the same way (the mark first, then the sessions
 * revoked), so a login racing a disable ends here too. Then enforces the per-user session cap.
 *
 * @throws {Refused} `INVALID_CREDENTIALS`, as for a wrong password: the one verified is no longer the
 * password; `ACCOUNT_DISABLED` when the account was disabled meanwhile.
 */
async function confirmLogin(deps: SignInDeps, user: User, session: Session): Promise<void> {
  // One read where the session store keeps sessions beside users (the account and the cap's
  // list, both read after the session was created); otherwise the user, then the list.
  const { sessions } = deps.stores;
  const joined = sessions.listActiveWithAccount ? await sessions.listActiveWithAccount(user.id, deps.clock()) : undefined;
  const current = joined ? joined.account : await deps.users.findById(user.id);
  if (current?.passwordHash !== user.passwordHash) {
    await revokeSession(deps, session.id, 'password_change');
    throw new Refused(RefusalCodes.INVALID_CREDENTIALS, 'invalid email or password');
  }
  if (current && isDisabled(current)) {
    await revokeSession(deps, session.id, 'admin');
    throw accountDisabled();
  }
  await enforceSessionCap(deps, user.id, session.id, joined?.sessions);
}

/** Least recently used first; ties by age, then id, so every node picks the same ones. */
const leastRecentlyUsed = (a: Session, b: Session): number =>
  a.lastSeenAt - b.lastSeenAt || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Keeps a user's live sessions within `config.maxSessionsPerUser`: past it, the least recently
 * used ones (never `keep`, the login's own) end, each with its revocation event, events first.
 * `listed`: the user's live sessions, when already read.
 */
async function enforceSessionCap(deps: SignInDeps, userId: string, keep: string, listed?: Session[]): Promise<void> {
  const live = listed ?? (await deps.stores.sessions.listActive(userId, deps.clock()));
  const excess = live.length - deps.config.maxSessionsPerUser;
  if (excess <= 0) return;
  const evicted = live
    .filter((s) => s.id !== keep)
    .sort(leastRecentlyUsed)
    .slice(0, excess)
    .map((s) => s.id);
  await revokeSessions(deps, evicted, 'session_limit');
}
