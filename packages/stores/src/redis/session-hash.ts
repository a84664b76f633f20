import type { Session, SessionKind } from '../types.js';

/**
 * A session as the flat field/value list of its Redis hash. A null field is left out, so an
 * empty string and null stay distinct; times are decimal strings, compared in Lua with tonumber.
 * The id is the key's, not a field. The hash may also hold a copy of the user's profile
 * (`profile`, `profileExpiresAt`, `profileGeneration`: see `profiles.ts`), which is not the session's.
 */
export function sessionToFields(s: Session): string[] {
  const fields: string[] = [
    'userId',
    s.userId,
    'kind',
    s.kind,
    'createdAt',
    String(s.createdAt),
    'lastSeenAt',
    String(s.lastSeenAt),
    'idleExpiresAt',
    String(s.idleExpiresAt),
    'absoluteExpiresAt',
    String(s.absoluteExpiresAt),
  ];
  if (s.secretHash !== null) fields.push('secretHash', s.secretHash);
  if (s.csrfToken !== null) fields.push('csrfToken', s.csrfToken);
  if (s.userAgent !== null) fields.push('userAgent', s.userAgent);
  if (s.ip !== null) fields.push('ip', s.ip);
  if (s.revokedAt !== null) fields.push('revokedAt', String(s.revokedAt));
  return fields;
}

/** The session stored in hash `h` (HGETALL's reply), or null when the key does not exist. */
export function sessionFromHash(id: string, h: Record<string, string>): Session | null {
  if (h.userId === undefined) return null;
  return {
    id,
    userId: h.userId,
    kind: h.kind as SessionKind,
    secretHash: h.secretHash ?? null,
    csrfToken: h.csrfToken ?? null,
    createdAt: Number(h.createdAt),
    lastSeenAt: Number(h.lastSeenAt),
    idleExpiresAt: Number(h.idleExpiresAt),
    absoluteExpiresAt: Number(h.absoluteExpiresAt),
    userAgent: h.userAgent ?? null,
    ip: h.ip ?? null,
    revokedAt: h.revokedAt === undefined ? null : Number(h.revokedAt),
  };
}
