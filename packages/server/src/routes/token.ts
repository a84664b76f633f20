import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Config } from '../config.js';
import { bearerClaims } from '../http/bearer.js';
import { clientInfo } from '../http/client-info.js';
import { checkSiteHeaders } from '../http/csrf.js';
import { RefusalCodes, Refused } from '../lib/errors.js';
import { grantOptions } from '../lib/grant-options.js';
import { refreshGrant, type TokenResponse } from '../lib/grants.js';
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
  /** `true`: hold the refresh token in the refresh cookie, not in the body (browser clients). */
  refresh_cookie?: boolean | string;
}

/**
 * The refresh cookie: where a browser client's refresh token lives, out of page script's reach
 * (`HttpOnly`), sent only to the token endpoint (`Path`) and only from our own site
 * (`SameSite=Strict`). `Secure` (and so the `__Secure-` prefix) everywhere but a plain-http
 * localhost issuer, where development happens without TLS.
 *
 * @example
 * refreshCookie({ issuer: 'https://auth.example.com' }).name // '__Secure-tessera_refresh'
 */
export function refreshCookie(config: Pick<Config, 'issuer'>) {
  const { protocol, hostname } = new URL(config.issuer);
  const local = protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(hostname);
  return {
    name: local ? 'tessera_refresh' : '__Secure-tessera_refresh',
    options: { path: '/v1/token', httpOnly: true, sameSite: 'strict', secure: !local } as const,
  };
}

const str = { type: 'string', maxLength: 4096 } as const;

/** `POST /v1/token` (password and refresh_token grants) and `POST /v1/logout`. */
export async function tokenRoutes(app: FastifyInstance): Promise<void> {
  const { config, stores, clock, verifier } = app.tessera;
  const held = refreshCookie(config);
  /** Moves the refresh token from the body into the cookie, which lives as long as its family. */
  const holdInCookie = (reply: FastifyReply, tokens: TokenResponse, maxAge: number) => {
    const { refresh_token, ...body } = tokens;
    reply.setCookie(held.name, refresh_token, { ...held.options, maxAge: Math.max(0, Math.floor(maxAge)) });
    return body;
  };
  const grants: TokenSignInDeps = { ...app.tessera, users: stores.users };

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
            refresh_cookie: {
              // JSON sends a boolean, a form the string: one enum takes both without a union type.
              enum: [true, false, 'true', 'false'],
              description:
                '`true` (browser clients): the refresh token is set as an HttpOnly, SameSite=Strict cookie scoped to this path, and left out of the body',
            },
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
      const wantsCookie = body.refresh_cookie === true || body.refresh_cookie === 'true';
      if (body.grant_type === 'password') {
        const { password } = body;
        const username = body.username ?? body.email;
        if (username === undefined || password === undefined) {
          throw new Refused(RefusalCodes.INVALID_REQUEST, 'username (or email) and password are required');
        }
        const tokens = await signInWithToken(
          grants,
          { email: username, password, ip: request.ip, mode: 'jwt' },
          clientInfo(request),
          options,
        );
        return wantsCookie ? holdInCookie(reply, tokens, config.refreshTokenTtl) : tokens;
      }
      if (body.grant_type === 'refresh_token') {
        // A browser sends none in the body: its refresh token is the cookie (sent to this path only).
        const fromCookie = body.refresh_token === undefined ? request.cookies[held.name] : undefined;
        const presented = body.refresh_token ?? fromCookie;
        if (presented === undefined) throw new Refused(RefusalCodes.INVALID_REQUEST, 'refresh_token is required');
        const inCookie = fromCookie !== undefined || wantsCookie;
        try {
          const { tokens, familyExpiresAt } = await refreshGrant(grants, presented, options);
          return inCookie ? holdInCookie(reply, tokens, (familyExpiresAt - clock()) / 1000) : tokens;
        } catch (err) {
          // A dead cookie (reused, expired, its session ended) is cleared: the browser stops sending it.
          if (inCookie && err instanceof Refused && err.code === RefusalCodes.INVALID_GRANT) reply.clearCookie(held.name, held.options);
          throw err;
        }
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
      // The refresh cookie is not sent here (its path is the token endpoint), but clearing it is;
      // only once logged out, so a refused logout leaves the browser able to try again.
      const loggedOut = () => reply.clearCookie(held.name, held.options).code(204).send();
      if (claims) {
        if (claims.sid) await revokeSession(grants, claims.sid, 'logout');
        return loggedOut();
      }
      const refresh = request.body?.refresh_token;
      if (refresh === undefined) throw new Refused(RefusalCodes.INVALID_REQUEST, 'send a Bearer access token or a refresh_token');
      // Like RFC 7009: an unknown token is already logged out.
      await revokeByRefreshToken(grants, refresh, 'logout');
      return loggedOut();
    },
  );
}
