import type { FastifyInstance } from 'fastify';
import { bearerClaims } from '../http/bearer.js';
import { clientInfo } from '../http/client-info.js';
import { checkSiteHeaders } from '../http/csrf.js';
import { RefusalCodes, Refused } from '../lib/errors.js';
import { grantOptions } from '../lib/grant-options.js';
import { refreshGrant } from '../lib/grants.js';
import { signInWithToken, type TokenSignInDeps } from '../lib/login.js';
import { revokeSession } from '../lib/revoke.js';
import { revokeByRefreshToken } from '../lib/token-revocation.js';
import { BODY_ERRORS, errors, noContent, security, tokenResponseSchema } from './schemas.js';

interface TokenBody {
  grant_type: string;
  username?: string;
  /** The password grant's `username`, by the name the rest of the API gives it. */
  email?: string;
  password?: string;
  refresh_token?: string;
  client_id?: string;
  scope?: string;
}

const str = { type: 'string', maxLength: 4096 } as const;

/** `POST /v1/token` (password and refresh_token grants) and `POST /v1/logout`. */
export async function tokenRoutes(app: FastifyInstance): Promise<void> {
  const { config, stores, clock, issuer, verifier, secrets, throttle, metrics, dummyHash, revocations, bus, leeway } = app.tessera;
  const grants: TokenSignInDeps = {
    users: stores.users,
    throttle,
    dummyHash,
    stores,
    clock,
    issuer,
    secrets,
    metrics,
    config,
    revocations,
    bus,
    leeway,
  };

  app.post<{ Body: TokenBody }>(
    '/v1/token',
    {
      // Refusals answer in RFC 6749 §5.2 terms here (a wrong password is an `invalid_grant`).
      config: { oauth: true },
      schema: {
        summary: 'Token endpoint: password and refresh_token grants (JSON or form)',
        tags: ['jwt'],
        security: security.none,
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: {
          type: 'object',
          required: ['grant_type'],
          properties: {
            grant_type: { ...str, description: '`password` or `refresh_token` (another answers `unsupported_grant_type`)' },
            username: { ...str, description: 'password grant: the email' },
            email: { ...str, description: 'password grant: the email, when not sent as username' },
            password: str,
            refresh_token: str,
            client_id: str,
            scope: str,
          },
        },
        response: {
          200: { ...tokenResponseSchema, description: 'Tokens (`Cache-Control: no-store`)' },
          ...errors(...BODY_ERRORS, 403, 429, 503, {
            400: 'RFC 6749 §5.2: `invalid_request`, `invalid_grant` (wrong password, a used or expired refresh token), `invalid_scope`, `unsupported_grant_type`',
          }),
        },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      checkSiteHeaders(config, request);
      const body = request.body;
      const options = grantOptions(body, config.scopes);
      if (body.grant_type === 'password') {
        const { password } = body;
        const username = body.username ?? body.email;
        if (username === undefined || password === undefined) {
          throw new Refused(RefusalCodes.INVALID_REQUEST, 'username (or email) and password are required');
        }
        return signInWithToken(grants, { email: username, password, ip: request.ip, mode: 'jwt' }, clientInfo(request), options);
      }
      if (body.grant_type === 'refresh_token') {
        if (body.refresh_token === undefined) throw new Refused(RefusalCodes.INVALID_REQUEST, 'refresh_token is required');
        return refreshGrant(grants, body.refresh_token, options);
      }
      throw new Refused(RefusalCodes.UNSUPPORTED_GRANT_TYPE, 'grant_type must be password or refresh_token');
    },
  );

  app.post<{ Body: { refresh_token?: string } | undefined }>(
    '/v1/logout',
    {
      schema: {
        summary: 'Log out: revoke the session of the Bearer token, or of the refresh token in the body',
        tags: ['jwt'],
        // A Bearer access token, or none: then the refresh token in the body names the session.
        security: [{ bearer: [] }, {}],
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: { type: ['object', 'null'], properties: { refresh_token: str } },
        response: {
          204: noContent('The session is revoked (an unknown refresh token is already logged out)'),
          ...errors(...BODY_ERRORS, 401, 503),
        },
      },
    },
    async (request, reply) => {
      const claims = bearerClaims(verifier, request);
      if (claims) {
        if (claims.sid) await revokeSession(grants, claims.sid, 'logout');
        return reply.code(204).send();
      }
      const refresh = request.body?.refresh_token;
      if (refresh === undefined) throw new Refused(RefusalCodes.INVALID_REQUEST, 'send a Bearer access token or a refresh_token');
      // Like RFC 7009: an unknown token is already logged out.
      await revokeByRefreshToken(grants, refresh, 'logout');
      return reply.code(204).send();
    },
  );
}
