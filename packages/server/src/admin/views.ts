import type { ManagedKey } from '@tessera/core';
import type { Session, User } from '@tessera/stores';
import type { KeyView, SessionView, UserView } from './types.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** A user as an administrator sees it: never the password hash. */
export function userView(user: User): UserView {
  const disabledAt = user.disabledAt ?? null;
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    roles: [...user.roles],
    disabled: disabledAt !== null,
    disabledAt: disabledAt === null ? null : iso(disabledAt),
    createdAt: iso(user.createdAt),
    updatedAt: iso(user.updatedAt),
  };
}

/** A live session, with its user's email when known. */
export function sessionView(session: Session, email: string | null): SessionView {
  return {
    id: session.id,
    userId: session.userId,
    email,
    kind: session.kind,
    createdAt: iso(session.createdAt),
    lastSeenAt: iso(session.lastSeenAt),
    expiresAt: iso(Math.min(session.idleExpiresAt, session.absoluteExpiresAt)),
    userAgent: session.userAgent,
    ip: session.ip,
  };
}

/** A signing key (its times are seconds in the key set). */
export function keyView(k: ManagedKey): KeyView {
  return {
    kid: k.key.kid,
    alg: k.key.alg,
    state: k.state,
    createdAt: iso(k.createdAt * 1000),
    activatedAt: k.activatedAt === undefined ? null : iso(k.activatedAt * 1000),
    retiredAt: k.retiredAt === undefined ? null : iso(k.retiredAt * 1000),
  };
}
