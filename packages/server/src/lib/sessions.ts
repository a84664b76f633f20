import type { AccessTokenClaims } from '@tessera/core';
import type { Session, Stores, User, UserProfile } from '@tessera/stores';
import type { Config } from '../config.js';
import { parseSessionCookie, randomId, randomSecret, type ServerSecrets, sha256Hex, sha256Matches } from './secrets.js';

/** Idle expiry is slid at most this often: a write per minute per session, not per request. */
export const TOUCH_INTERVAL_MS = 60_000;

/** Client details kept with a session. */
export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
}

/**
 * The part of this node's revocation list a session check reads (`RevocationList` fits): a
 * session is probed as a token of its user and sid issued when the session was created.
 */
export interface SessionRevocations {
  isRevoked(claims: Pick<AccessTokenClaims, 'sub' | 'sid' | 'iat'>): boolean;
}

/**
 * True when a revocation event covers the session. Events are written before sessions are
 * marked, so after a crash in between the event is all there is.
 */
export function revokedByEvent(revocations: SessionRevocations, session: Session): boolean {
  return revocations.isRevoked({ sub: session.userId, sid: session.id, iat: Math.floor(session.createdAt / 1000) });
}

/** What cookie sessions are created and resolved with. */
export interface SessionDeps {
  stores: Pick<Stores, 'sessions'>;
  /** Milliseconds since the epoch. */
  clock: () => number;
  config: Pick<Config, 'sessionIdleTtl' | 'sessionAbsoluteTtl'>;
  /** Derives a session's CSRF token (checked on cookie-authenticated state changes). */
  secrets: Pick<ServerSecrets, 'csrfToken'>;
  /** This node's revocation list, honoured on every lookup. */
  revocations: SessionRevocations;
}

/**
 * Creates a cookie session with a fresh id (no fixation). Returns the cookie value `sid.secret`
 * and the CSRF token, which is derived from the session id (`ServerSecrets.csrfToken`) rather
 * than stored: the session row keeps `csrfToken: null`, so a copy of the database yields no token.
 */
export async function createCookieSession(
  deps: SessionDeps,
  user: User,
  client: ClientInfo,
): Promise<{ session: Session; cookie: string; csrfToken: string }> {
  const now = deps.clock();
  const secret = randomSecret();
  const session: Session = {
    id: randomId(),
    userId: user.id,
    kind: 'cookie',
    secretHash: sha256Hex(secret),
    csrfToken: null,
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: now + deps.config.sessionIdleTtl * 1000,
    absoluteExpiresAt: now + deps.config.sessionAbsoluteTtl * 1000,
    userAgent: client.userAgent,
    ip: client.ip,
    revokedAt: null,
  };
  await deps.stores.sessions.create(session);
  return { session, cookie: `${session.id}.${secret}`, csrfToken: deps.secrets.csrfToken(session.id) };
}

/** True while a session is neither revoked nor past its idle or absolute expiry. */
export function isLive(session: Session, now: number): boolean {
  return session.revokedAt === null && now < session.idleExpiresAt && now < session.absoluteExpiresAt;
}

/**
 * Resolves a session cookie: parse, look up, compare the secret's hash in constant time,
 * check expiry and this node's revocation events, and slide the idle expiry when the last slide is older than a minute.
 * Returns null for anything but a live cookie session.
 */
export async function authenticateCookie(deps: SessionDeps, value: unknown): Promise<{ session: Session; user: UserProfile } | null> {
  const parsed = parseSessionCookie(value);
  if (!parsed) return null;
  // Session and user in one read: this runs on every cookie-authenticated request.
  const found = await deps.stores.sessions.getWithUser(parsed.sid);
  if (!found) return null;
  const { session } = found;
  if (session.kind !== 'cookie' || session.secretHash === null) return null;
  if (!sha256Matches(parsed.secret, session.secretHash)) return null;
  const now = deps.clock();
  if (!isLive(session, now)) return null;
  // Disabling revokes every session; the mark is checked too, so a session that revocation
  // missed (a tool pointed at another session store) still ends with the account.
  if (found.user.disabledAt !== null) return null;
  if (revokedByEvent(deps.revocations, session)) {
    // Ended by an event whose mark never landed (a crash in between): the mark is made now.
    await deps.stores.sessions.revoke(session.id, now);
    return null;
  }
  if (now - session.lastSeenAt >= TOUCH_INTERVAL_MS) {
    const idleExpiresAt = Math.min(now + deps.config.sessionIdleTtl * 1000, session.absoluteExpiresAt);
    await deps.stores.sessions.touch(session.id, now, idleExpiresAt);
    session.lastSeenAt = now;
    session.idleExpiresAt = idleExpiresAt;
  }
  return found;
}

/** A page of {@link listSessions}. */
export interface SessionList {
  /** Live sessions, newest first. */
  sessions: Session[];
  /** The cursor of the next page (the last session's id); null on the last page. */
  nextCursor: string | null;
}

/**
 * One page of a user's live sessions (both kinds), newest first, after the session `page.after`.
 * Sessions ended by a revocation event but not marked (a crash between the two) are left out
 * and marked now.
 */
export async function listSessions(
  deps: Pick<SessionDeps, 'stores' | 'clock' | 'revocations'>,
  userId: string,
  page: { limit: number; after?: string | undefined },
): Promise<SessionList> {
  const now = deps.clock();
  // One more than asked: whether a next page exists, without an empty last page.
  const found = await deps.stores.sessions.listActive(userId, now, {
    limit: page.limit + 1,
    ...(page.after !== undefined ? { after: page.after } : {}),
  });
  const rows = found.slice(0, page.limit);
  const ended = new Set(rows.filter((s) => revokedByEvent(deps.revocations, s)).map((s) => s.id));
  if (ended.size > 0) await deps.stores.sessions.revokeMany([...ended], now);
  return {
    sessions: rows.filter((s) => !ended.has(s.id)),
    nextCursor: found.length > page.limit ? (rows[rows.length - 1] as Session).id : null,
  };
}
