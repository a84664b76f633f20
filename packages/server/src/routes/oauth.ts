import { Buffer } from 'node:buffer';
import type { AccessTokenClaims } from '@tessera/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Tessera } from '../lib/context.js';
import { findRefreshToken } from '../lib/grants.js';
import { HttpError, tooManyRequests } from '../lib/http-errors.js';
import { revokeSession } from '../lib/revoke.js';
import { safeEqual } from '../lib/secrets.js';
import { isLive } from '../lib/sessions.js';
import { clientAuthTarget } from '../lib/throttle.js';

interface Body {
  token: string;
  token_type_hint?: string;
}

const bodySchema = {
  type: 'object',
  required: ['token'],
  properties: { token: { type: 'string', maxLength: 16384 }, token_type_hint: { type: 'string', maxLength: 64 } },
} as const;

/**
 * RFC 6749 §2.3.1 client authentication by HTTP Basic, against the configured resource-server
 * credentials. Wrong secrets for a configured client id are counted per client id and address;
 * past a few, that pair gets 429 for a back-off. Requests naming no configured client are not
 * counted: they cannot guess anything, and counting them would let anyone behind the same
 * address lock a resource server out. A client id is an identifier, not a secret (RFC 6749
 * §2.2), so a 429 telling that one exists gives nothing away. Checked with one read and charged
 * only on failure, since resource servers introspect often: a burst of N guesses in flight can
 * get N through before the back-off, against secrets long enough for that not to matter.
 */
async function authenticateClient(t: Tessera, request: FastifyRequest): Promise<string> {
  const invalid = new HttpError(401, 'invalid_client', 'resource-server credentials are required (HTTP Basic)', {
    'www-authenticate': 'Basic realm="tessera"',
  });
  const credentials = basicCredentials(request.headers.authorization);
  if (!credentials) throw invalid;
  const { id, secret } = credentials;
  const expected = t.config.introspectionClients.get(id);
  const target = expected !== undefined ? clientAuthTarget(id, request.ip) : null;
  if (target) {
    const wait = await t.throttle.retryAfter([target]);
    if (wait > 0) throw tooManyRequests(wait);
  }
  // Compare against something even for unknown ids, so timing does not reveal which ids exist.
  const ok = safeEqual(secret, expected ?? secret.replace(/./g, '\0')) && expected !== undefined;
  if (ok) return id;
  if (target) await t.throttle.fail(...target);
  throw invalid;
}

/** The client id and secret of an `Authorization: Basic` header (form-urlencoded, RFC 6749 §2.3.1), or null. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  if (typeof header !== 'string' || !/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

function accessClaims(t: Tessera, token: string): Readonly<AccessTokenClaims> | null {
  try {
    return t.verifier.verify(token);
  } catch {
    return null;
  }
}

/** RFC 7662 introspection and RFC 7009 revocation. */
export async function oauthRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;

  app.post<{ Body: Body }>(
    '/oauth/introspect',
    { schema: { summary: 'RFC 7662 token introspection (resource-server credentials)', tags: ['oauth'], body: bodySchema } },
    async (request, reply) => {
      await authenticateClient(t, request);
      reply.header('cache-control', 'no-store');
      const { token } = request.body;
      if (token.startsWith('rt_')) {
        const found = await findRefreshToken(t, token);
        if (!found || found.row.rotatedAt !== null) return { active: false };
        const session = await t.stores.sessions.get(found.row.sessionId);
        if (!session || !isLive(session, t.clock()) || t.clock() >= found.row.expiresAt) return { active: false };
        return {
          active: true,
          token_type: 'refresh_token',
          sub: found.row.userId,
          sid: found.row.sessionId,
          iss: t.config.issuer,
          iat: Math.floor(found.row.createdAt / 1000),
          exp: Math.floor(found.row.expiresAt / 1000),
        };
      }
      const claims = accessClaims(t, token);
      if (!claims) return { active: false };
      return { active: true, token_type: 'Bearer', ...claims };
    },
  );

  app.post<{ Body: Body }>(
    '/oauth/revoke',
    { schema: { summary: 'RFC 7009 revocation: ends the session of a refresh or access token', tags: ['oauth'], body: bodySchema } },
    async (request, reply) => {
      const { token } = request.body;
      if (token.startsWith('rt_')) {
        const found = await findRefreshToken(t, token);
        if (found) await revokeSession(t, found.row.sessionId, 'token_revocation');
      } else {
        const sid = accessClaims(t, token)?.sid;
        if (sid) await revokeSession(t, sid, 'token_revocation');
      }
      // RFC 7009 §2.2: invalid tokens get 200 too; there is nothing left to revoke.
      return reply.code(200).send();
    },
  );
}
