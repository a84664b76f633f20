import type { FastifyInstance } from 'fastify';
import { RefusalCodes, Refused } from '../lib/errors.js';
import { isLive } from '../lib/sessions.js';
import { requireAuth } from '../plugins/authenticate.js';
import { errors, security, sessionSchema } from './schemas.js';
import { view } from './sessions.js';

/**
 * `GET /v1/sessions/current`: the session the request is authenticated by, as the list shows it,
 * with its CSRF token. A cookie client that is not a browser (no Origin) needs that token for
 * every state change, and may have lost the login response that first carried it; with the
 * cookie alone it reads it again here. A Bearer request gets its token's session, with no CSRF
 * token (none is needed without the cookie).
 */
export async function currentSessionRoutes(app: FastifyInstance): Promise<void> {
  const { stores, clock, secrets } = app.tessera;
  app.get(
    '/v1/sessions/current',
    {
      preHandler: app.authenticateUser,
      schema: {
        summary: 'The current session, and its CSRF token for cookie clients',
        tags: ['sessions'],
        security: security.user,
        response: {
          200: {
            ...sessionSchema,
            description: 'The session (`current` true) and `csrf_token`: the X-CSRF-Token value for the cookie, null for Bearer',
            required: [...sessionSchema.required, 'csrf_token'],
            properties: { ...sessionSchema.properties, csrf_token: { type: ['string', 'null'] } },
          },
          ...errors(400, 401, 503, { 404: 'The Bearer token names no live session (`not_found`)' }),
        },
      },
    },
    async (request, reply) => {
      const a = requireAuth(request);
      reply.header('cache-control', 'no-store');
      if (a.kind === 'session') return { ...view(a.session, a.sid), csrf_token: secrets.csrfToken(a.sid) };
      const session = a.sid ? await stores.sessions.get(a.sid) : null;
      if (!session || session.userId !== a.userId || !isLive(session, clock())) {
        throw new Refused(RefusalCodes.NOT_FOUND, 'this token belongs to no live session');
      }
      return { ...view(session, a.sid), csrf_token: null };
    },
  );
}
