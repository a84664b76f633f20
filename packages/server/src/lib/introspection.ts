import type { AccessTokenClaims, Verifier } from '@tessera/core';
import type { Stores } from '@tessera/stores';
import type { Config } from '../config.js';
import { findRefreshToken } from './grants.js';
import { isLive, revokedByEvent, type SessionRevocations } from './sessions.js';

/** What {@link introspect} uses. */
export interface IntrospectionDeps {
  stores: Pick<Stores, 'refreshTokens' | 'sessions'>;
  verifier: Pick<Verifier, 'verify'>;
  /** Milliseconds since the epoch. */
  clock: () => number;
  config: Pick<Config, 'issuer'>;
  /** This node's revocation list: a session ended by an event whose mark never landed is not live. */
  revocations: SessionRevocations;
}

/** An RFC 7662 introspection answer. */
export type Introspection = { active: false } | ({ active: true; token_type: string } & Record<string, unknown>);

/** The claims of an access token this server would accept now, or null. */
export function acceptedClaims(verifier: Pick<Verifier, 'verify'>, token: string): Readonly<AccessTokenClaims> | null {
  try {
    return verifier.verify(token);
  } catch {
    return null;
  }
}

/**
 * RFC 7662: whether a token (refresh or access) is active, and what it stands for. A refresh
 * token is active while it is the family's newest and its session is live.
 */
export async function introspect(deps: IntrospectionDeps, token: string): Promise<Introspection> {
  if (token.startsWith('rt_')) {
    const found = await findRefreshToken(deps, token);
    if (!found || found.row.rotatedAt !== null) return { active: false };
    const session = await deps.stores.sessions.get(found.row.sessionId);
    if (!session || !isLive(session, deps.clock()) || revokedByEvent(deps.revocations, session) || deps.clock() >= found.row.expiresAt) {
      return { active: false };
    }
    return {
      active: true,
      token_type: 'refresh_token',
      sub: found.row.userId,
      sid: found.row.sessionId,
      iss: deps.config.issuer,
      iat: Math.floor(found.row.createdAt / 1000),
      exp: Math.floor(found.row.expiresAt / 1000),
    };
  }
  const claims = acceptedClaims(deps.verifier, token);
  if (!claims) return { active: false };
  return { active: true, token_type: 'Bearer', ...claims };
}
