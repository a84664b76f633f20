import type { RefreshToken, Session, User } from '@tessera/stores';
import type { Tessera } from './context.js';
import { HttpError } from './http-errors.js';
import { recordSessionRevocation } from './revoke.js';
import { formatRefreshToken, parseRefreshToken, randomId, randomSecret, sha256Hex, sha256Matches } from './secrets.js';
import { type ClientInfo, isLive } from './sessions.js';

/** The body of a successful token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope?: string;
}

/** What a token request asked for, beyond credentials. */
export interface GrantOptions {
  clientId: string;
  scope: string | undefined;
}

const invalidGrant = (description: string) => new HttpError(400, 'invalid_grant', description);

function accessToken(
  t: Tessera,
  user: Pick<User, 'id' | 'email' | 'name' | 'roles'> | null,
  session: Session,
  options: GrantOptions,
  grant: string,
) {
  const { token } = t.issuer.issue({
    sub: session.userId,
    sid: session.id,
    client_id: options.clientId,
    ...(options.scope ? { scope: options.scope } : {}),
    ...(user ? { email: user.email } : {}),
    ...(user?.name ? { name: user.name } : {}),
    ...(user && user.roles.length > 0 ? { roles: user.roles } : {}),
  });
  t.metrics.tokensIssued.inc({ grant });
  return token;
}

/** Token login: a new token session (refresh family), its first refresh token, and an access token. */
export async function issueTokenSession(t: Tessera, user: User, client: ClientInfo, options: GrantOptions): Promise<TokenResponse> {
  const now = t.clock();
  const expiresAt = now + t.config.refreshTokenTtl * 1000;
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
  await t.stores.sessions.create(session);
  const id = randomId();
  const secret = randomSecret();
  await t.stores.refreshTokens.create({
    id,
    sessionId: session.id,
    userId: user.id,
    secretHash: sha256Hex(secret),
    createdAt: now,
    expiresAt,
    rotatedAt: null,
    successorId: null,
    scope: options.scope ?? '',
  });
  return response(t, accessToken(t, user, session, options, 'password'), formatRefreshToken(id, secret), options.scope);
}

function response(t: Tessera, access: string, refresh: string, scope: string | undefined): TokenResponse {
  return {
    access_token: access,
    token_type: 'Bearer',
    expires_in: t.config.accessTokenTtl,
    refresh_token: refresh,
    ...(scope ? { scope } : {}),
  };
}

/** Looks a presented refresh token up and checks its secret; null when it is not a live token of ours. */
export async function findRefreshToken(t: Tessera, presented: unknown): Promise<{ row: RefreshToken; secret: string } | null> {
  const parsed = parseRefreshToken(presented);
  if (!parsed) return null;
  const row = await t.stores.refreshTokens.get(parsed.id);
  if (!row || !sha256Matches(parsed.secret, row.secretHash)) return null;
  return { row, secret: parsed.secret };
}

/**
 * The refresh grant. Rotation is atomic in the store; the successor is derived from the
 * presented token, so concurrent refreshes within the grace window all receive the same
 * successor. A token used again after the window is reuse (RFC 9700 §4.14.2): the whole
 * family is revoked, and so are its access tokens.
 */
export async function refreshGrant(t: Tessera, presented: unknown, options: GrantOptions): Promise<TokenResponse> {
  const found = await findRefreshToken(t, presented);
  if (!found) {
    t.metrics.refreshes.inc({ result: 'invalid' });
    throw invalidGrant('the refresh token is invalid');
  }
  const { row, secret } = found;
  const now = t.clock();
  // Session and user in one read; a deleted account has no row to join, so it ends here too.
  const owner = await t.stores.sessions.getWithUser(row.sessionId);
  const session = owner?.session;
  if (!owner || !session || !isLive(session, now) || now >= row.expiresAt) {
    t.metrics.refreshes.inc({ result: 'expired' });
    throw invalidGrant('the refresh token has expired or its session ended');
  }
  // RFC 6749 §6: a refresh may narrow the scope the family was granted, never widen it (a family
  // stored before scopes were recorded is bounded by TESSERA_SCOPES, checked already). A token
  // used again after its grace window goes on to reuse detection whatever scope it asks for.
  const familyScope = row.scope === null ? null : row.scope.split(' ').filter(Boolean);
  const reused = row.rotatedAt !== null && now - row.rotatedAt > t.config.refreshGrace * 1000;
  if (!reused && options.scope !== undefined && familyScope !== null) {
    if (!options.scope.split(' ').every((s) => familyScope.includes(s))) {
      throw new HttpError(400, 'invalid_scope', 'a refresh cannot ask for a scope the login was not granted');
    }
  }
  const next = t.secrets.successor(row.id, secret);
  const result = await t.stores.refreshTokens.rotate(
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
    const withinGrace = now - result.rotatedAt <= t.config.refreshGrace * 1000;
    if (!withinGrace || result.successorId !== next.id) {
      await t.stores.sessions.revoke(session.id, now);
      await t.stores.refreshTokens.deleteFamily(session.id);
      await recordSessionRevocation(t, session.id, 'refresh_reuse');
      t.metrics.reuseDetections.inc();
      t.metrics.refreshes.inc({ result: 'reuse' });
      throw invalidGrant('the refresh token was already used; the session has been revoked');
    }
  }
  const { user } = owner;
  t.metrics.refreshes.inc({ result: result.status === 'rotated' ? 'rotated' : 'grace' });
  // Omitted: the family's scope, less any scope the server has stopped granting since (TESSERA_SCOPES).
  const inherited = (familyScope ?? []).filter((s) => t.config.scopes.has(s));
  const granted = { ...options, scope: options.scope ?? (inherited.length > 0 ? inherited.join(' ') : undefined) };
  return response(t, accessToken(t, user, session, granted, 'refresh_token'), formatRefreshToken(next.id, next.secret), granted.scope);
}
