import type { Session, User } from '@tessera/stores';
import { type RevokeDeps, revokeSession, revokeUserSessions } from '../lib/revoke.js';
import { isLive } from '../lib/sessions.js';
import type { AdminDeps } from './context.js';
import { AdminError } from './errors.js';
import type { SessionView } from './types.js';
import { findUser } from './users.js';
import { sessionView } from './views.js';

/** Users read per page while listing every user's sessions. */
const USER_PAGE = 500;

/** The shape of a session id (`randomId()`: base64url), generously bounded. */
const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

const newestFirst = (a: Session, b: Session) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Live sessions (both kinds), newest first: one user's, or every user's. Every user's walks the
 * users page by page and asks the session store for each one's, so it works wherever sessions
 * live (the database or Redis).
 */
export async function listSessions(deps: Pick<AdminDeps, 'stores' | 'clock'>, filter: { user?: string } = {}): Promise<SessionView[]> {
  const now = deps.clock();
  const users: User[] = [];
  if (filter.user !== undefined) {
    users.push(await findUser(deps.stores.users, filter.user));
  } else {
    let after: string | undefined;
    for (;;) {
      const page = await deps.stores.users.list({ limit: USER_PAGE, ...(after !== undefined ? { after } : {}) });
      users.push(...page);
      if (page.length < USER_PAGE) break;
      after = (page[page.length - 1] as User).email;
    }
  }
  const found: { session: Session; email: string }[] = [];
  for (const user of users) {
    for (const session of await deps.stores.sessions.listActive(user.id, now)) found.push({ session, email: user.email });
  }
  return found.sort((a, b) => newestFirst(a.session, b.session)).map(({ session, email }) => sessionView(session, email));
}

/**
 * Ends one session with its revocation event (its access tokens are refused everywhere at once)
 * and its refresh family.
 *
 * @throws {AdminError} `session_not_found` when no live session has this id.
 */
export async function revokeOneSession(deps: RevokeDeps, sessionId: string): Promise<void> {
  const session = typeof sessionId === 'string' && SESSION_ID.test(sessionId) ? await deps.stores.sessions.get(sessionId) : null;
  if (!session || !isLive(session, deps.clock())) throw new AdminError('session_not_found', 'no such live session');
  await revokeSession(deps, session.id, 'admin');
}

/**
 * Ends every session of the user, as log-out-everywhere does; returns how many it ended: those live
 * when it began and any it marked itself. Counted
 * before, not from the marks this call wrote: a running node hears the revocation event (written
 * first) and may mark some of the sessions before this call does.
 */
export async function revokeAllSessions(deps: AdminDeps, emailOrId: string): Promise<number> {
  const user = await findUser(deps.stores.users, emailOrId);
  const live = await deps.stores.sessions.listActive(user.id, deps.clock());
  const ended = await revokeUserSessions(deps, user.id, 'admin');
  return new Set([...live.map((s) => s.id), ...ended]).size;
}
