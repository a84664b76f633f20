import type { Session, User, UserProfile } from '@tessera/stores';
import type { Tessera } from './context.js';
import { parseSessionCookie, randomId, randomSecret, sha256Hex, sha256Matches } from './secrets.js';

/** Idle expiry is slid at most this often: a write per minute per session, not per request. */
export const TOUCH_INTERVAL_MS = 60_000;

/** Client details kept with a session. */
export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
}

function clip(value: string | undefined | null, max: number): string | null {
  if (typeof value !== 'string' || value === '') return null;
  return value.length > max ? value.slice(0, max) : value;
}

export function clientInfo(headers: Record<string, string | string[] | undefined>, ip: string): ClientInfo {
  const ua = headers['user-agent'];
  return { userAgent: clip(Array.isArray(ua) ? ua[0] : ua, 256), ip: clip(ip, 64) };
}

/** Creates a cookie session with a fresh id (no fixation). Returns the cookie value `sid.secret` and the CSRF token. */
export async function createCookieSession(t: Tessera, user: User, client: ClientInfo): Promise<{ session: Session; cookie: string }> {
  const now = t.clock();
  const secret = randomSecret();
  const session: Session = {
    id: randomId(),
    userId: user.id,
    kind: 'cookie',
    secretHash: sha256Hex(secret),
    csrfToken: randomSecret(),
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: now + t.config.sessionIdleTtl * 1000,
    absoluteExpiresAt: now + t.config.sessionAbsoluteTtl * 1000,
    userAgent: client.userAgent,
    ip: client.ip,
    revokedAt: null,
  };
  await t.stores.sessions.create(session);
  return { session, cookie: `${session.id}.${secret}` };
}

/** True while a session is neither revoked nor past its idle or absolute expiry. */
export function isLive(session: Session, now: number): boolean {
  return session.revokedAt === null && now < session.idleExpiresAt && now < session.absoluteExpiresAt;
}

/**
 * Resolves a session cookie: parse, look up, compare the secret's hash in constant time,
 * check expiry, and slide the idle expiry when the last slide is older than a minute.
 * Returns null for anything but a live cookie session.
 */
export async function authenticateCookie(t: Tessera, value: unknown): Promise<{ session: Session; user: UserProfile } | null> {
  const parsed = parseSessionCookie(value);
  if (!parsed) return null;
  // Session and user in one read: this runs on every cookie-authenticated request.
  const found = await t.stores.sessions.getWithUser(parsed.sid);
  if (!found) return null;
  const { session } = found;
  if (session.kind !== 'cookie' || session.secretHash === null) return null;
  if (!sha256Matches(parsed.secret, session.secretHash)) return null;
  const now = t.clock();
  if (!isLive(session, now)) return null;
  if (now - session.lastSeenAt >= TOUCH_INTERVAL_MS) {
    const idleExpiresAt = Math.min(now + t.config.sessionIdleTtl * 1000, session.absoluteExpiresAt);
    await t.stores.sessions.touch(session.id, now, idleExpiresAt);
    session.lastSeenAt = now;
    session.idleExpiresAt = idleExpiresAt;
  }
  return found;
}
