import type { Session, SessionPage } from '../types.js';
import { assertPageLimit } from './cursor.js';

/** Active at `now`: not revoked, and both expiries still ahead (an expiry instant is already expired). */
export const isActive = (s: Session, now: number): boolean => s.revokedAt === null && s.idleExpiresAt > now && s.absoluteExpiresAt > now;

/** Newest first; the id breaks ties so the order is the same on every backend (SQL: `ORDER BY created_at DESC, id DESC`). */
export const newestFirst = (a: Session, b: Session): number => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * `SessionStore.listActive` over a user's sessions held in hand (the memory and Redis backends):
 * the active ones, newest first; with `page`, those after `last` (the session `page.after`
 * names, looked up by the caller whatever its state; none, or another user's, gives an empty
 * page), at most `page.limit`.
 */
export function listActivePage(
  sessions: readonly Session[],
  userId: string,
  now: number,
  page: SessionPage | undefined,
  last: Session | null,
): Session[] {
  if (page) assertPageLimit(page.limit);
  let active = sessions.filter((s) => isActive(s, now)).sort(newestFirst);
  if (!page) return active;
  if (page.after !== undefined) {
    if (!last || last.userId !== userId) return [];
    active = active.filter((s) => newestFirst(last, s) < 0);
  }
  return active.slice(0, page.limit);
}
