import type { FastifyInstance } from 'fastify';
import { findRefreshToken, type GrantOptions, issueTokenSession, refreshGrant } from '../lib/grants.js';
import { badRequest, HttpError, tokenFailure } from '../lib/http-errors.js';
import { checkCredentials } from '../lib/login.js';
import { revokeSession } from '../lib/revoke.js';
import { clientInfo } from '../lib/sessions.js';
import { bearerToken, checkSiteHeaders } from '../plugins/authenticate.js';
import { errorSchema, tokenResponseSchema } from './schemas.js';

interface TokenBody {
  grant_type: string;
  username?: string;
  password?: string;
  refresh_token?: string;
  client_id?: string;
  scope?: string;
}

const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const DEFAULT_CLIENT_ID = 'tessera';

/**
 * Client id and scope of a token request. Every requested scope must be one the server
 * grants (TESSERA_SCOPES): a client cannot mint itself a scope a resource server checks,
 * at login or on refresh.
 */
function grantOptions(body: TokenBody, allowed: ReadonlySet<string>): GrantOptions {
  if (body.client_id !== undefined && !CLIENT_ID.test(body.client_id)) throw badRequest('client_id is invalid');
  if (body.scope !== undefined && body.scope !== '') {
    if (!SCOPE.test(body.scope)) throw new HttpError(400, 'invalid_scope', 'scope is malformed');
    if (!body.scope.split(' ').every((s) => allowed.has(s)))
      throw new HttpError(400, 'invalid_scope', 'a requested scope is not granted by this server');
  }
  return { clientId: body.client_id ?? DEFAULT_CLIENT_ID, scope: body.scope || undefined };
}

const str = { type: 'string', maxLength: 4096 } as const;

/** `POST /v1/token` (password and refresh_token grants) and `POST /v1/logout`. */
export async function tokenRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;

  app.post<{ Body: TokenBody }>(
    '/v1/token',
    {
      schema: {
        summary: 'Token endpoint: password and refresh_token grants (JSON or form)',
        tags: ['jwt'],
        body: {
          type: 'object',
          required: ['grant_type'],
          properties: { grant_type: str, username: str, password: str, refresh_token: str, client_id: str, scope: str },
        },
        response: { 200: tokenResponseSchema, 400: errorSchema, 429: errorSchema },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      checkSiteHeaders(t, request);
      const body = request.body;
      const options = grantOptions(body, t.config.scopes);
      if (body.grant_type === 'password') {
        if (body.username === undefined || body.password === undefined) throw badRequest('username and password are required');
        const user = await checkCredentials(
          t,
          request,
          body.username,
          body.password,
          'jwt',
          () => new HttpError(400, 'invalid_grant', 'invalid username or password'),
        );
        return issueTokenSession(t, user, clientInfo(request.headers, request.ip), options);
      }
      if (body.grant_type === 'refresh_token') {
        if (body.refresh_token === undefined) throw badRequest('refresh_token is required');
        return refreshGrant(t, body.refresh_token, options);
      }
      throw new HttpError(400, 'unsupported_grant_type', 'grant_type must be password or refresh_token');
    },
  );

  app.post<{ Body: { refresh_token?: string } | undefined }>(
    '/v1/logout',
    {
      schema: {
        summary: 'Log out: revoke the session of the Bearer token, or of the refresh token in the body',
        tags: ['jwt'],
        body: { type: ['object', 'null'], properties: { refresh_token: str } },
        response: { 400: errorSchema, 401: errorSchema },
      },
    },
    async (request, reply) => {
      const token = bearerToken(request);
      if (token !== undefined) {
        let sid: string | undefined;
        try {
          sid = t.verifier.verify(token).sid;
        } catch (err) {
          throw tokenFailure(err);
        }
        if (sid) await revokeSession(t, sid, 'logout');
        return reply.code(204).send();
      }
      const refresh = request.body?.refresh_token;
      if (refresh === undefined) throw badRequest('send a Bearer access token or a refresh_token');
      const found = await findRefreshToken(t, refresh);
      // Like RFC 7009: an unknown token is already logged out.
      if (found) await revokeSession(t, found.row.sessionId, 'logout');
      return reply.code(204).send();
    },
  );
}
