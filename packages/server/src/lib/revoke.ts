import type { RevocationEvent } from '@tessera/stores';
import type { Tessera } from './context.js';

/** Why a session ended, for the event log and metrics. */
export type RevocationReason =
  | 'logout'
  | 'logout_everywhere'
  | 'logout_others'
  | 'session_revoked'
  | 'refresh_reuse'
  | 'password_change'
  | 'token_revocation'
  | 'admin';

/**
 * Writes the revocation event for session `sid` and honours it on this node at once.
 * The event lasts until every access token of the session has expired (issue time +
 * lifetime + verifier leeway), and voids every token issued up to now.
 */
export async function recordSessionRevocation(t: Tessera, sid: string, reason: RevocationReason): Promise<RevocationEvent> {
  const now = Math.ceil(t.clock() / 1000);
  const event = await t.stores.revocations.append({
    sid,
    sub: null,
    // +1: a token issued earlier in this same second has iat == now and must be covered too.
    notBefore: now + 1,
    until: now + t.config.accessTokenTtl + t.leeway + 1,
    reason,
  });
  t.revocations.add(event);
  t.bus.publish(event, t.clock());
  t.metrics.revocations.inc({ reason });
  return event;
}

/** Revokes one session (if it was live) with its refresh family, and records the event. Returns whether this call revoked it. */
export async function revokeSession(t: Tessera, sid: string, reason: RevocationReason): Promise<boolean> {
  const revoked = await t.stores.sessions.revoke(sid, t.clock());
  await t.stores.refreshTokens.deleteFamily(sid);
  if (revoked) await recordSessionRevocation(t, sid, reason);
  return revoked;
}

/** Revokes all of a user's sessions except `exceptSid`, each with its own event. Returns the revoked ids. */
export async function revokeUserSessions(t: Tessera, userId: string, reason: RevocationReason, exceptSid?: string): Promise<string[]> {
  const sids = await t.stores.sessions.revokeUser(userId, t.clock(), exceptSid);
  for (const sid of sids) {
    await t.stores.refreshTokens.deleteFamily(sid);
    await recordSessionRevocation(t, sid, reason);
  }
  return sids;
}

/** Pulls events other nodes wrote since `cursor` into this node's list; returns the new cursor. */
export async function syncRevocations(t: Tessera, cursor: string | null, publish = true): Promise<string | null> {
  let next = cursor;
  for (;;) {
    const events = await t.stores.revocations.since(next, 1000);
    for (const e of events) {
      t.revocations.add(e);
      if (publish) t.bus.publish(e);
      else t.bus.remember(e);
    }
    if (events.length === 0) return next;
    next = (events[events.length - 1] as RevocationEvent).cursor;
    if (events.length < 1000) return next;
  }
}
