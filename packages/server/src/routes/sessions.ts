import type { Session } from '@tessera/stores';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { clientInfo } from '../http/client-info.js';
import { checkSiteHeaders } from '../http/csrf.js';
import { cookieName, cookieOptions } from '../http/session-cookie.js';
import { RefusalCodes, Refused } from '../lib/errors.js';
import { type CookieSignInDeps, signInWithCookie } from '../lib/login.js';
import { type RevokeDeps, revokeSession, revokeUserSessions } from '../lib/revoke.js';
import { listSessions } from '../lib/sessions.js';
import { type Auth, requireAuth } from '../plugins/authenticate.js';
import { BODY_ERRORS, errors, noContent, security, sessionSchema, userSchema } from './schemas.js';

/** A session as the API shows it; `current` when it is the one `current` names. */
export function view(s: Session, current: string | null) {
  return {
    id: s.id,
    kind: s.kind,
    current: s.id === current,
    created_at: new Date(s.createdAt).toISOString(),
    last_seen_at: new Date(s.lastSeenAt).toISOString(),
    expires_at: new Date(Math.min(s.idleExpiresAt, s.absoluteExpiresAt)).toISOString(),
    user_agent: s.userAgent,
    ip: s.ip,
  };
}

/** Sessions per page of `GET /v1/sessions` unless `?limit=` says otherwise, and the most it may say. */
const DEFAULT_PAGE = 50;
const MAX_PAGE = 100;

/** The shape of a session id (`randomId()`: base64url), generously bounded. */
const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Cookie login, the session list, and logout here / one device / everywhere. */
export async function sessionRoutes(app: FastifyInstance): Promise<void> {
  const { config, stores } = app.tessera;
  // The app's context satisfies every domain dependency; logins also read users by id.
  const revoking: RevokeDeps = app.tessera;
  const logins: CookieSignInDeps = { ...app.tessera, users: stores.users };
  const name = cookieName(config);
  const attributes = cookieOptions(config);
  const auth = app.authenticateUser;
  const clear = (reply: FastifyReply, a: Auth, sid: string | null) => {
    if (a.kind === 'session' && (sid === null || a.sid === sid)) reply.clearCookie(name, attributes);
  };

  app.post<{ Body: { email?: string; username?: string; password: string } }>(
    '/v1/sessions',
    {
      schema: {
        summary: 'Cookie login: creates a server-side session',
        tags: ['sessions'],
        security: security.none,
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: {
          type: 'object',
          required: ['password'],
          // `username` is the token endpoint's name for the same thing: either is taken, email first.
          anyOf: [{ required: ['email'] }, { required: ['username'] }],
          additionalProperties: false,
          properties: {
            email: { type: 'string', maxLength: 1024 },
            username: { type: 'string', maxLength: 1024, description: 'the email, by its OAuth name' },
            password: { type: 'string', maxLength: 4096 },
          },
        },
        response: {
          201: {
            description: 'Signed in: the session cookie is set (`Set-Cookie`), and the CSRF token for clients that send no Origin',
            type: 'object',
            required: ['user', 'csrf_token'],
            properties: { user: userSchema, csrf_token: { type: 'string' } },
          },
          ...errors(...BODY_ERRORS, 403, 429, 503, { 401: 'Wrong email or password (`invalid_credentials`)' }),
        },
      },
    },
    async (request, reply) => {
      checkSiteHeaders(config, request);
      const { password } = request.body;
      const email = request.body.email ?? request.body.username;
      const { user, cookie, csrfToken } = await signInWithCookie(
        logins,
        { email, password, ip: request.ip, mode: 'session' },
        clientInfo(request),
      );
      reply.setCookie(name, cookie, { ...attributes, maxAge: config.sessionAbsoluteTtl });
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({
        user: { id: user.id, email: user.email, name: user.name, created_at: new Date(user.createdAt).toISOString() },
        csrf_token: csrfToken,
      });
    },
  );

  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    '/v1/sessions',
    {
      preHandler: auth,
      schema: {
        summary: 'My sessions, both kinds, newest first; the current one marked. Paged: follow next_cursor',
        tags: ['sessions'],
        security: security.user,
        response: {
          200: {
            description: 'A page of sessions; `next_cursor` is null on the last page',
            type: 'object',
            required: ['sessions', 'next_cursor'],
            properties: { sessions: { type: 'array', items: sessionSchema }, next_cursor: { type: ['string', 'null'] } },
          },
          ...errors(400, 401, 503),
        },
        querystring: {
          type: 'object',
          properties: {
            limit: {
              type: 'string',
              pattern: '^(100|[1-9][0-9]?)$',
              description: `sessions per page, 1 to ${MAX_PAGE} (default ${DEFAULT_PAGE})`,
            },
            cursor: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'next_cursor of the previous page' },
          },
        },
      },
    },
    async (request) => {
      const a = requireAuth(request);
      const { limit, cursor } = request.query;
      const page = await listSessions(logins, a.userId, { limit: limit === undefined ? DEFAULT_PAGE : Number(limit), after: cursor });
      return { sessions: page.sessions.map((s) => view(s, a.sid)), next_cursor: page.nextCursor };
    },
  );

  app.delete(
    '/v1/sessions/current',
    {
      preHandler: auth,
      schema: {
        summary: 'Log out here',
        tags: ['sessions'],
        security: security.userChange,
        response: { 204: noContent('This session is revoked (and its cookie cleared)'), ...errors(400, 401, 403, 503) },
      },
    },
    async (request, reply) => {
      const a = requireAuth(request);
      if (a.sid) await revokeSession(revoking, a.sid, 'logout');
      clear(reply, a, null);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/v1/sessions/others',
    {
      preHandler: auth,
      schema: {
        summary: 'Log out all my other sessions; this one stays',
        tags: ['sessions'],
        security: security.userChange,
        response: { 204: noContent('Every other session of the user is revoked'), ...errors(400, 401, 403, 503) },
      },
    },
    async (request, reply) => {
      const a = requireAuth(request);
      // A token without a session (sid) has no "this one": every session is another.
      await revokeUserSessions(revoking, a.userId, 'logout_others', a.sid ?? undefined);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { sid: string } }>(
    '/v1/sessions/:sid',
    {
      preHandler: auth,
      schema: {
        summary: 'Log out one of my sessions (another device)',
        tags: ['sessions'],
        security: security.userChange,
        params: { type: 'object', properties: { sid: { type: 'string', maxLength: 64 } } },
        response: {
          204: noContent('The session is revoked'),
          ...errors(400, 401, 403, 414, 503, { 404: "No such session of the user's (`not_found`)" }),
        },
      },
    },
    async (request, reply) => {
      const a = requireAuth(request);
      // Not a session id of ours (a NUL byte, say, which PostgreSQL refuses): no such session, and
      // no store read.
      const session = SESSION_ID.test(request.params.sid) ? await stores.sessions.get(request.params.sid) : null;
      // Another user's session is indistinguishable from a missing one.
      if (!session || session.userId !== a.userId) throw new Refused(RefusalCodes.NOT_FOUND, 'no such session');
      await revokeSession(revoking, session.id, 'session_revoked');
      clear(reply, a, session.id);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/v1/sessions',
    {
      preHandler: auth,
      schema: {
        summary: 'Log out everywhere',
        tags: ['sessions'],
        security: security.userChange,
        response: { 204: noContent('Every session of the user is revoked'), ...errors(400, 401, 403, 503) },
      },
    },
    async (request, reply) => {
      const a = requireAuth(request);
      await revokeUserSessions(revoking, a.userId, 'logout_everywhere');
      clear(reply, a, null);
      return reply.code(204).send();
    },
  );
}
