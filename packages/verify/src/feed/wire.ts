import type { WireEvent } from '@tessera/core';

/** A session or subject id: absent, or a bounded non-empty string. */
const optionalId = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.length > 0 && v.length <= 256);

/** A feed cursor: an opaque, bounded string. */
export const isCursor = (c: unknown): c is string => typeof c === 'string' && c.length > 0 && c.length <= 64;

/**
 * A rule in wire form: finite times, and a session and/or subject id. Everything that reaches the
 * revocation list passes here first (live events, caught-up events, the persisted rules), since
 * each comes from outside the process.
 */
export function isWireRule(e: unknown): e is Pick<WireEvent, 'sid' | 'sub' | 'not_before' | 'until'> {
  if (typeof e !== 'object' || e === null) return false;
  const { sid, sub, not_before, until } = e as Record<string, unknown>;
  return (
    Number.isFinite(not_before) &&
    Number.isFinite(until) &&
    optionalId(sid) &&
    optionalId(sub) &&
    (typeof sid === 'string' || typeof sub === 'string')
  );
}

/** An event as the auth server writes it: a cursor, and a rule. */
export function isWireEvent(e: unknown): e is WireEvent {
  if (!isWireRule(e)) return false;
  const { cursor, at } = e as Record<string, unknown>;
  return isCursor(cursor) && (at === undefined || Number.isFinite(at));
}

/**
 * The later of two cursors. The auth server's cursors are decimal sequence numbers, compared as
 * such (as text, "9" would pass "10"); any other cursor is opaque, and the newer one wins.
 */
export function laterCursor(a: string | null, b: string): string {
  if (a === null) return b;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(b) > BigInt(a) ? b : a;
  return b;
}
