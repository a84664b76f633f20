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
 * credentials. Wrong credentials are counted per client address; past a few, the address gets
 * 429 for a back-off. Checked with one read and charged only on failure: resource servers
 * introspect often, and their secrets are long, so a burst can only win a handful of guesses more.
 */
async function authenticateClient(t: Tessera, request: FastifyRequest): Promise<string> {
  const target = clientAuthTarget(request.ip);
  const wait = await t.throttle.retryAfter([target]);
  if (wait > 0) throw tooManyRequests(wait);
  try {
    return checkClientCredentials(t, request);
  } catch (err) {
    await t.throttle.fail(...target);
    throw err;
  }
}

function checkClientCredentials(t: Tessera, request: FastifyRequest): string {
  const invalid = new HttpError(401, 'invalid_client', 'resource-server credentials are required (HTTP Basic)', {
    'www-authenticate': 'Basic realm="tessera"',
  });
  const header = request.headers.authorization;
  if (typeof header !== 'string' || !/^basic /i.test(header)) throw invalid;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw invalid;
  let id: string;
  let secret: string;
  try {
    id = decodeURIComponent(decoded.slice(0, colon));
    secret = decodeURIComponent(decoded.slice(colon + 1));
  } catch {
    throw invalid;
  }
  const expected = t.config.introspectionClients.get(id);
  // Compare against something even for unknown ids, so timing does not reveal which ids exist.
  const ok = safeEqual(secret, expected ?? secret.replace(/./g, '\0')) && expected !== undefined;
  if (!ok) throw invalid;
  return id;
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
