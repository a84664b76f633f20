import type { RevocationList } from '@tessera/core';
import type { RevocationEvent, Stores } from '@tessera/stores';
import type { Config } from '../config.js';
import type { Metrics } from './metrics.js';
import type { RevocationBus } from './revocation-bus.js';

/** Why a session ended, for the event log and metrics. */
export type RevocationReason =
  | 'logout'
  | 'logout_everywhere'
  | 'logout_others'
  | 'session_revoked'
  | 'refresh_reuse'
  | 'password_change'
  | 'session_limit'
  | 'token_revocation'
  | 'admin';

/** What ending sessions takes: the stores, this node's revocation list, the feed, and the token lifetime events must outlive. */
export interface RevokeDeps {
  stores: Pick<Stores, 'sessions' | 'refreshTokens' | 'revocations'>;
  /** Milliseconds since the epoch. */
  clock: () => number;
  /** Revocations this node honours at once. */
  revocations: Pick<RevocationList, 'add'>;
  bus: Pick<RevocationBus, 'publish'>;
  metrics: Pick<Metrics, 'revocations'>;
  config: Pick<Config, 'accessTokenTtl'>;
  /** Leeway verifiers allow, seconds. */
  leeway: number;
}

/** What catching up with other nodes' revocations takes. */
export interface SyncDeps {
  stores: Pick<Stores, 'revocations' | 'sessions'>;
  /** Milliseconds since the epoch. */
  clock: () => number;
  revocations: Pick<RevocationList, 'add'>;
  bus: Pick<RevocationBus, 'publish' | 'remember'>;
}

/** The event that ends session `sid`, as of now. */
function sessionEvent(deps: Pick<RevokeDeps, 'clock' | 'config' | 'leeway'>, sid: string, reason: RevocationReason) {
  const now = Math.ceil(deps.clock() / 1000);
  return {
    sid,
    sub: null,
    // +1: a token issued earlier in this same second has iat == now and must be covered too.
    notBefore: now + 1,
    until: now + deps.config.accessTokenTtl + deps.leeway + 1,
    reason,
  };
}

/** Honours stored events on this node at once and tells the feed. */
function honour(deps: RevokeDeps, events: readonly RevocationEvent[]): void {
  const at = deps.clock();
  for (const event of events) {
    deps.revocations.add(event);
    deps.bus.publish(event, at);
    deps.metrics.revocations.inc({ reason: event.reason });
  }
}

/**
 * Writes the revocation event for session `sid` and honours it on this node at once.
 * The event lasts until every access token of the session has expired (issue time +
 * lifetime + verifier leeway), and voids every token issued up to now.
 */
export async function recordSessionRevocation(deps: RevokeDeps, sid: string, reason: RevocationReason): Promise<RevocationEvent> {
  const event = await deps.stores.revocations.append(sessionEvent(deps, sid, reason));
  honour(deps, [event]);
  return event;
}

/**
 * Revokes one session (if it is not revoked already) with its refresh family. The event is
 * stored before the session is marked: a crash in between leaves an event every session check
 * honours (and {@link syncRevocations} marks the session later), never a marked session whose
 * access tokens stay valid. Returns whether this call marked it.
 */
export async function revokeSession(deps: RevokeDeps, sid: string, reason: RevocationReason): Promise<boolean> {
  const session = await deps.stores.sessions.get(sid);
  let revoked = false;
  if (session && session.revokedAt === null) {
    await recordSessionRevocation(deps, sid, reason);
    revoked = await deps.stores.sessions.revoke(sid, deps.clock());
  }
  await deps.stores.refreshTokens.deleteFamily(sid);
  return revoked;
}

/**
 * Revokes these sessions, events first: all their events in one atomic append, then the marks,
 * then the refresh families. Returns the ids this call marked.
 */
export async function revokeSessions(deps: RevokeDeps, sids: readonly string[], reason: RevocationReason): Promise<string[]> {
  if (sids.length === 0) return [];
  const events = await deps.stores.revocations.appendAll(sids.map((sid) => sessionEvent(deps, sid, reason)));
  honour(deps, events);
  const revoked = await deps.stores.sessions.revokeMany(sids, deps.clock());
  for (const sid of sids) await deps.stores.refreshTokens.deleteFamily(sid);
  return revoked;
}

/**
 * Revokes all of a user's sessions except `exceptSid` ({@link revokeSessions}: events first).
 * Sessions that expired less than an access-token lifetime ago are included, since tokens they
 * issued may still be valid; so are sessions an interrupted earlier call left unmarked, so a
 * retry completes it. Returns the ids this call marked.
 */
export async function revokeUserSessions(
  deps: RevokeDeps,
  userId: string,
  reason: RevocationReason,
  exceptSid?: string,
): Promise<string[]> {
  const horizon = deps.clock() - (deps.config.accessTokenTtl + deps.leeway) * 1000;
  const sessions = await deps.stores.sessions.listActive(userId, horizon);
  return revokeSessions(
    deps,
    sessions.filter((s) => s.id !== exceptSid).map((s) => s.id),
    reason,
  );
}

/**
 * Pulls events other nodes wrote since `cursor` into this node's list; returns the new cursor.
 * The sessions the events name are marked revoked too (a no-op for those marked already): a node
 * that crashed between writing events and marking sessions left them unmarked, and an event is
 * forgotten once its tokens have expired, so the mark must be made before then. At start
 * (`cursor` null) this pass covers every retained event.
 */
export async function syncRevocations(deps: SyncDeps, cursor: string | null, publish = true): Promise<string | null> {
  let next = cursor;
  for (;;) {
    const events = await deps.stores.revocations.since(next, 1000);
    for (const e of events) {
      deps.revocations.add(e);
      if (publish) deps.bus.publish(e);
      else deps.bus.remember(e);
    }
    const sids = events.flatMap((e) => (e.sid === null ? [] : [e.sid]));
    if (sids.length > 0) await deps.stores.sessions.revokeMany(sids, deps.clock());
    if (events.length === 0) return next;
    next = (events[events.length - 1] as RevocationEvent).cursor;
    if (events.length < 1000) return next;
  }
}
