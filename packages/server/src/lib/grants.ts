import type { Issuer, RevocationList } from '@tessera/core';
import type { RefreshToken, Session, Stores, User, UserProfile } from '@tessera/stores';
import type { Config } from '../config.js';
import { RefusalCodes, Refused } from './errors.js';
import { scopeForRoles } from './grant-options.js';
import type { Metrics } from './metrics.js';
import { type RevokeDeps, revokeSession } from './revoke.js';
import type { ServerSecrets } from './secrets.js';
import { formatRefreshToken, parseRefreshToken, randomId, randomSecret, sha256Hex, sha256Matches } from './secrets.js';
import { type ClientInfo, isLive, revokedByEvent, TOUCH_INTERVAL_MS } from './sessions.js';

/** The body of a successful token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope?: string;
}

/**
 * A refresh grant's answer, and when its family ends: a refresh token held in a cookie lives
 * exactly as long as the family, so the cookie's `Max-Age` is taken from here.
 */
export interface RotatedTokens {
  tokens: TokenResponse;
  /** The family's (and so the successor's) expiry, in milliseconds since the epoch. */
  familyExpiresAt: number;
}

/** What a token request asked for, beyond credentials. */
export interface GrantOptions {
  clientId: string;
  scope: string | undefined;
}

/**
 * What token grants take. Reuse detection ends the refresh family's session, so it takes what
 * revoking does too.
 */
export interface GrantDeps extends RevokeDeps {
  stores: Pick<Stores, 'sessions' | 'refreshTokens' | 'revocations'>;
  /** Revocations this node honours at once; a refresh checks its session against them too. */
  revocations: Pick<RevocationList, 'add' | 'isRevoked'>;
  issuer: Pick<Issuer, 'issue'>;
  secrets: Pick<ServerSecrets, 'successor'>;
  metrics: Pick<Metrics, 'tokensIssued' | 'refreshes' | 'reuseDetections' | 'revocations'>;
  config: Pick<Config, 'accessTokenTtl' | 'refreshTokenTtl' | 'refreshGrace' | 'scopes' | 'scopeRoles'>;
}

const invalidGrant = (description: string) => new Refused(RefusalCodes.INVALID_GRANT, description);

function accessToken(
  deps: GrantDeps,
  user: Pick<User, 'id' | 'email' | 'name' | 'roles'> | null,
  session: Session,
  options: GrantOptions,
  grant: string,
) {
  const { token } = deps.issuer.issue({
    sub: session.userId,
    sid: session.id,
    client_id: options.clientId,
    ...(options.scope ? { scope: options.scope } : {}),
    ...(user ? { email: user.email } : {}),
    ...(user?.name ? { name: user.name } : {}),
    ...(user && user.roles.length > 0 ? { roles: user.roles } : {}),
  });
  deps.metrics.tokensIssued.inc({ grant });
  return token;
}

/** A token session just created: the session (refresh family) and its first refresh token, not yet handed out. */
export interface NewTokenSession {
  session: Session;
  refreshToken: string;
}

/**
 * Token login, first half: a new token session (refresh family) and its first refresh token.
 * Nothing is handed out until {@link firstTokens}; the caller checks the login still holds in between.
 */
export async function createTokenSession(
  deps: Pick<GrantDeps, 'stores' | 'clock' | 'config'>,
  user: User,
  client: ClientInfo,
  options: GrantOptions,
): Promise<NewTokenSession> {
  const now = deps.clock();
  const expiresAt = now + deps.config.refreshTokenTtl * 1000;
  const session: Session = {
    id: randomId(),
    userId: user.id,
    kind: 'token',
    secretHash: null,
    csrfToken: null,
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: expiresAt,
    absoluteExpiresAt: expiresAt,
    userAgent: client.userAgent,
    ip: client.ip,
    revokedAt: null,
  };
  const id = randomId();
  const secret = randomSecret();
  const token: RefreshToken = {
    id,
    sessionId: session.id,
    userId: user.id,
    secretHash: sha256Hex(secret),
    createdAt: now,
    expiresAt,
    rotatedAt: null,
    successorId: null,
    scope: options.scope ?? '',
  };
  // One write where the refresh store keeps sessions beside it; otherwise the session first.
  const { sessions, refreshTokens } = deps.stores;
  if (!(await refreshTokens.createWithSession?.(session, token, sessions))) {
    await sessions.create(session);
    await refreshTokens.create(token);
  }
  return { session, refreshToken: formatRefreshToken(id, secret) };
}

/** Token login, second half: the token response for a session from {@link createTokenSession}. */
export function firstTokens(deps: GrantDeps, user: User, created: NewTokenSession, options: GrantOptions): TokenResponse {
  return response(deps, accessToken(deps, user, created.session, options, 'password'), created.refreshToken, options.scope);
}

/**
 * The token response. `scope` is sent whenever one was granted: RFC 6749 §5.1 requires it when it
 * differs from the request (roles left part of it out), and sending it always tells clients the same.
 */
function response(deps: GrantDeps, access: string, refresh: string, scope: string | undefined): TokenResponse {
  return {
    access_token: access,
    token_type: 'Bearer',
    expires_in: deps.config.accessTokenTtl,
    refresh_token: refresh,
    ...(scope ? { scope } : {}),
  };
}

/** Looks a presented refresh token up and checks its secret; null when it is not a live token of ours. */
export async function findRefreshToken(
  deps: { stores: Pick<Stores, 'refreshTokens'> },
  presented: unknown,
): Promise<{ row: RefreshToken; secret: string } | null> {
  const parsed = parseRefreshToken(presented);
  if (!parsed) return null;
  const row = await deps.stores.refreshTokens.get(parsed.id);
  if (!row || !sha256Matches(parsed.secret, row.secretHash)) return null;
  return { row, secret: parsed.secret };
}

/**
 * {@link findRefreshToken}, and the token's session with its user (`owner`, as
 * `sessions.getWithUser` answers). One read where the refresh store keeps sessions beside it
 * (`RefreshStore.getWithOwner`), two otherwise.
 */
async function findRefreshTokenWithOwner(
  deps: { stores: Pick<Stores, 'refreshTokens' | 'sessions'> },
  presented: unknown,
): Promise<{ row: RefreshToken; secret: string; owner: { session: Session; user: UserProfile } | null } | null> {
  const { refreshTokens, sessions } = deps.stores;
  const parsed = parseRefreshToken(presented);
  const joined = parsed && refreshTokens.getWithOwner ? await refreshTokens.getWithOwner(parsed.id, sessions) : undefined;
  if (joined === undefined) {
    const found = await findRefreshToken(deps, presented);
    return found && { ...found, owner: await sessions.getWithUser(found.row.sessionId) };
  }
  if (!parsed || !joined || !sha256Matches(parsed.secret, joined.token.secretHash)) return null;
  return { row: joined.token, secret: parsed.secret, owner: joined.owner };
}

/**
 * The refresh grant. Rotation is atomic in the store; the successor is derived from the
 * presented token, so concurrent refreshes within the grace window all receive the same
 * successor. A token used again after the window is reuse (RFC 9700 §4.14.2): the whole
 * family is revoked, and so are its access tokens.
 */
export async function refreshGrant(deps: GrantDeps, presented: unknown, options: GrantOptions): Promise<RotatedTokens> {
  // Session and user in one read (with the token, where the store allows); a deleted account has
  // no row to join, so it ends here too.
  const found = await findRefreshTokenWithOwner(deps, presented);
  if (!found) {
    deps.metrics.refreshes.inc({ result: 'invalid' });
    throw invalidGrant('the refresh token is invalid');
  }
  const { row, secret, owner } = found;
  const now = deps.clock();
  const session = owner?.session;
  // An event without its mark (a crash between the two) ends the session just the same.
  const ended = session !== undefined && isLive(session, now) && revokedByEvent(deps.revocations, session);
  if (ended) {
    await deps.stores.sessions.revoke(session.id, now);
    await deps.stores.refreshTokens.deleteFamily(session.id);
  }
  if (!owner || !session || !isLive(session, now) || ended || now >= row.expiresAt) {
    deps.metrics.refreshes.inc({ result: 'expired' });
    throw invalidGrant('the refresh token has expired or its session ended');
  }
  // Disabling revokes every session; the mark is checked too, for a session that revocation missed.
  if (owner.user.disabledAt !== null) {
    deps.metrics.refreshes.inc({ result: 'invalid' });
    throw invalidGrant('the account is disabled');
  }
  // RFC 6749 §6: a refresh may narrow the scope the family was granted, never widen it (a family
  // stored before scopes were recorded is bounded by TESSERA_SCOPES, checked already). A token
  // used again after its grace window goes on to reuse detection whatever scope it asks for.
  const familyScope = row.scope === null ? null : row.scope.split(' ').filter(Boolean);
  const reused = row.rotatedAt !== null && now - row.rotatedAt > deps.config.refreshGrace * 1000;
  if (!reused && options.scope !== undefined && familyScope !== null) {
    if (!options.scope.split(' ').every((s) => familyScope.includes(s))) {
      throw new Refused(RefusalCodes.INVALID_SCOPE, 'a refresh cannot ask for a scope the login was not granted');
    }
  }
  // The user's roles as they are now (the same read): a role revoked since login drops the scopes
  // it allowed. Omitted, the scope is the family's, less any scope the server has stopped
  // granting since (TESSERA_SCOPES).
  const { user } = owner;
  const inherited = (familyScope ?? []).filter((s) => deps.config.scopes.has(s));
  const requested = options.scope ?? (inherited.length > 0 ? inherited.join(' ') : undefined);
  const scope = scopeForRoles(requested, user.roles, deps.config.scopeRoles);
  if (!reused && options.scope !== undefined && scope === undefined) {
    throw new Refused(RefusalCodes.INVALID_SCOPE, 'none of the requested scopes is granted to this account');
  }
  const next = deps.secrets.successor(row.id, secret);
  const result = await deps.stores.refreshTokens.rotate(
    row.id,
    // A family stored before scopes were recorded is bound from here on to what this refresh asked for.
    {
      ...row,
      id: next.id,
      secretHash: sha256Hex(next.secret),
      createdAt: now,
      rotatedAt: null,
      successorId: null,
      scope: row.scope ?? options.scope ?? '',
    },
    now,
  );
  if (result.status === 'not-found') throw invalidGrant('the refresh token is invalid');
  if (result.status === 'already-rotated') {
    const withinGrace = now - result.rotatedAt <= deps.config.refreshGrace * 1000;
    if (!withinGrace || result.successorId !== next.id) {
      await revokeSession(deps, session.id, 'refresh_reuse');
      deps.metrics.reuseDetections.inc();
      deps.metrics.refreshes.inc({ result: 'reuse' });
      throw invalidGrant('the refresh token was already used; the session has been revoked');
    }
  }
  // Token sessions are "used" when refreshed: what the per-user session cap evicts by.
  if (now - session.lastSeenAt >= TOUCH_INTERVAL_MS) await deps.stores.sessions.touch(session.id, now, session.idleExpiresAt);
  deps.metrics.refreshes.inc({ result: result.status === 'rotated' ? 'rotated' : 'grace' });
  const granted = { ...options, scope };
  const tokens = response(
    deps,
    accessToken(deps, user, session, granted, 'refresh_token'),
    formatRefreshToken(next.id, next.secret),
    granted.scope,
  );
  return { tokens, familyExpiresAt: row.expiresAt };
}
