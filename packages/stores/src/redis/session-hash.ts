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

/**
 * Every field a session's hash can hold, its profile copy's included: a lookup reads them by name
 * (HMGET), in this order, rather than the whole hash.
 */
export const SESSION_HASH_FIELDS = [
  'userId',
  'kind',
  'createdAt',
  'lastSeenAt',
  'idleExpiresAt',
  'absoluteExpiresAt',
  'secretHash',
  'csrfToken',
  'userAgent',
  'ip',
  'revokedAt',
  'profile',
  'profileExpiresAt',
  'profileGeneration',
] as const;

/** HMGET's reply for {@link SESSION_HASH_FIELDS} as the hash it reads (missing fields left out). */
export function hashFromValues(values: readonly (string | null)[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i < SESSION_HASH_FIELDS.length; i++) {
    const value = values[i];
    if (value !== null && value !== undefined) hash[SESSION_HASH_FIELDS[i] as string] = value;
  }
  return hash;
}

/** The session stored in hash `h` (field → value), or null when the key does not exist. */
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
