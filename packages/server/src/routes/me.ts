import type { FastifyInstance } from 'fastify';
import { badRequest, tooManyRequests, unauthorized } from '../lib/http-errors.js';
import { hashPassword, passwordProblem, verifyPassword } from '../lib/passwords.js';
import { revokeUserSessions } from '../lib/revoke.js';
import { ACCOUNT_RULE } from '../lib/throttle.js';
import { type Auth, authPreHandler } from '../plugins/authenticate.js';
import { errorSchema } from './schemas.js';

/** `GET /v1/me` and `POST /v1/me/password`. */
export async function meRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const auth = authPreHandler(t);

  app.get(
    '/v1/me',
    {
      preHandler: auth,
      schema: {
        summary: 'Who am I: from the token alone for Bearer (no store read), from the session store for cookies',
        tags: ['accounts'],
        response: {
          200: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              email: { type: 'string' },
              name: { type: ['string', 'null'] },
              auth: { type: 'string' },
              sid: { type: ['string', 'null'] },
            },
          },
          401: errorSchema,
        },
      },
    },
    async (request) => {
      const a = request.auth as Auth;
      if (a.kind === 'jwt') {
        const { claims } = a;
        return {
          id: claims.sub,
          auth: 'jwt',
          sid: a.sid,
          ...(claims.email ? { email: claims.email } : {}),
          ...(claims.name ? { name: claims.name } : {}),
        };
      }
      const { user } = a;
      return { id: user.id, email: user.email, name: user.name, auth: 'session', sid: a.sid };
    },
  );

  app.post<{ Body: { current_password: string; new_password: string } }>(
    '/v1/me/password',
    {
      preHandler: auth,
      schema: {
        summary: 'Change my password; my other sessions are revoked',
        tags: ['accounts'],
        body: {
          type: 'object',
          required: ['current_password', 'new_password'],
          additionalProperties: false,
          properties: { current_password: { type: 'string', maxLength: 4096 }, new_password: { type: 'string', maxLength: 4096 } },
        },
        response: { 400: errorSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema },
      },
    },
    async (request, reply) => {
      const a = request.auth as Auth;
      const user = await t.stores.users.findById(a.userId);
      if (!user) throw unauthorized('the account no longer exists', false);
      const key = `password:acct:${user.id}`;
      // Charged before the check, cleared once the current password is right (see LoginThrottle.claim).
      const { wait } = await t.throttle.claim(key, ACCOUNT_RULE);
      if (wait > 0) throw tooManyRequests(wait);
      if (!(await verifyPassword(user.passwordHash, request.body.current_password))) {
        throw badRequest('the current password is wrong', 'invalid_grant');
      }
      await t.throttle.succeed(key);
      const problem = passwordProblem(request.body.new_password, user.email);
      if (problem) throw badRequest(problem, 'weak_password');
      await t.stores.users.updatePassword(user.id, await hashPassword(request.body.new_password), t.clock());
      await revokeUserSessions(t, user.id, 'password_change', a.sid ?? undefined);
      return reply.code(204).send();
    },
  );
}
