import type { Session } from '@tessera/stores';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpError, notFound } from '../lib/http-errors.js';
import { checkCredentials } from '../lib/login.js';
import { revokeSession, revokeUserSessions } from '../lib/revoke.js';
import { clientInfo, createCookieSession } from '../lib/sessions.js';
import { type Auth, authPreHandler, checkSiteHeaders, cookieName, cookieOptions } from '../plugins/authenticate.js';
import { errorSchema, userSchema } from './schemas.js';

function view(s: Session, current: string | null) {
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

/** Cookie login, the session list, and logout here / one device / everywhere. */
export async function sessionRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const name = cookieName(t);
  const attributes = cookieOptions(t);
  const auth = authPreHandler(t);
  const clear = (reply: FastifyReply, a: Auth, sid: string | null) => {
    if (a.kind === 'session' && (sid === null || a.sid === sid)) reply.clearCookie(name, attributes);
  };

  app.post<{ Body: { email: string; password: string } }>(
    '/v1/sessions',
    {
      schema: {
        summary: 'Cookie login: creates a server-side session',
        tags: ['sessions'],
        body: {
          type: 'object',
          required: ['email', 'password'],
          additionalProperties: false,
          properties: { email: { type: 'string', maxLength: 1024 }, password: { type: 'string', maxLength: 4096 } },
        },
        response: {
          201: { type: 'object', properties: { user: userSchema, csrf_token: { type: 'string' } } },
          400: errorSchema,
          401: errorSchema,
          403: errorSchema,
          429: errorSchema,
        },
      },
    },
    async (request, reply) => {
      checkSiteHeaders(t, request);
      const user = await checkCredentials(
        t,
        request,
        request.body.email,
        request.body.password,
        'session',
        // Every 401 carries a challenge (RFC 7235 §3.1); no token was sent, so no error= parameter.
        () => new HttpError(401, 'invalid_credentials', 'invalid email or password', { 'www-authenticate': 'Bearer' }),
      );
      const { session, cookie } = await createCookieSession(t, user, clientInfo(request.headers, request.ip));
      reply.setCookie(name, cookie, { ...attributes, maxAge: t.config.sessionAbsoluteTtl });
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({
        user: { id: user.id, email: user.email, name: user.name, created_at: new Date(user.createdAt).toISOString() },
        csrf_token: session.csrfToken,
      });
    },
  );

  app.get(
    '/v1/sessions',
    { preHandler: auth, schema: { summary: 'My sessions, both kinds; the current one marked', tags: ['sessions'] } },
    async (request) => {
      const a = request.auth as Auth;
      const sessions = await t.stores.sessions.listActive(a.userId, t.clock());
      return { sessions: sessions.map((s) => view(s, a.sid)) };
    },
  );

  app.delete(
    '/v1/sessions/current',
    { preHandler: auth, schema: { summary: 'Log out here', tags: ['sessions'] } },
    async (request, reply) => {
      const a = request.auth as Auth;
      if (a.sid) await revokeSession(t, a.sid, 'logout');
      clear(reply, a, null);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/v1/sessions/others',
    { preHandler: auth, schema: { summary: 'Log out all my other sessions; this one stays', tags: ['sessions'] } },
    async (request, reply) => {
      const a = request.auth as Auth;
      // A token without a session (sid) has no "this one": every session is another.
      await revokeUserSessions(t, a.userId, 'logout_others', a.sid ?? undefined);
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
        params: { type: 'object', properties: { sid: { type: 'string', maxLength: 64 } } },
      },
    },
    async (request, reply) => {
      const a = request.auth as Auth;
      const session = await t.stores.sessions.get(request.params.sid);
      // Another user's session is indistinguishable from a missing one.
      if (!session || session.userId !== a.userId) throw notFound('no such session');
      await revokeSession(t, session.id, 'session_revoked');
      clear(reply, a, session.id);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/v1/sessions',
    { preHandler: auth, schema: { summary: 'Log out everywhere', tags: ['sessions'] } },
    async (request, reply) => {
      const a = request.auth as Auth;
      await revokeUserSessions(t, a.userId, 'logout_everywhere');
      clear(reply, a, null);
      return reply.code(204).send();
    },
  );
}
