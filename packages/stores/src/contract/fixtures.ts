import { randomUUID } from 'node:crypto';
import type { RefreshToken, Session, StoredKey, Stores, User } from '../types.js';

/** A fixed "now" (ms): the contract never reads the real clock. */
export const T0 = 1_700_000_000_000;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export const id = (prefix: string): string => `${prefix}_${randomUUID()}`;

export function makeUser(overrides: Partial<User> = {}): User {
  const userId = overrides.id ?? id('usr');
  return {
    id: userId,
    email: `${userId}@example.test`,
    name: null,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    roles: [],
    disabledAt: null,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

export function makeSession(userId: string, overrides: Partial<Session> = {}): Session {
  return {
    id: id('sid'),
    userId,
    kind: 'token',
    secretHash: null,
    csrfToken: null,
    createdAt: T0,
    lastSeenAt: T0,
    idleExpiresAt: T0 + HOUR,
    absoluteExpiresAt: T0 + 24 * HOUR,
    userAgent: null,
    ip: null,
    revokedAt: null,
    ...overrides,
  };
}

export function makeRefresh(session: Session, overrides: Partial<RefreshToken> = {}): RefreshToken {
  return {
    id: id('rt'),
    sessionId: session.id,
    userId: session.userId,
    secretHash: 'ab'.repeat(32),
    createdAt: T0,
    expiresAt: session.absoluteExpiresAt,
    rotatedAt: null,
    successorId: null,
    scope: 'openid profile',
    ...overrides,
  };
}

export function makeKey(state: StoredKey['state'], overrides: Partial<StoredKey> = {}): StoredKey {
  return {
    kid: id('kid'),
    alg: 'ES256',
    state,
    privateJwk: 'v1.encrypted-jwk-bytes',
    createdAt: T0,
    activatedAt: state === 'next' ? null : T0,
    retiredAt: state === 'retired' ? T0 : null,
    ...overrides,
  };
}

/**
 * A user and one of their sessions, created in the store: backends with foreign keys (SQL)
 * require the parents of sessions and refresh tokens to exist.
 */
export async function seedSession(stores: Stores, overrides: Partial<Session> = {}): Promise<Session> {
  const user = overrides.userId ? null : makeUser();
  if (user) await stores.users.create(user);
  const session = makeSession(overrides.userId ?? user!.id, overrides);
  await stores.sessions.create(session);
  return session;
}
