import type { FastifyInstance } from 'fastify';
import { changePassword, type PasswordChangeDeps } from '../lib/password-change.js';
import { requireAuth } from '../plugins/authenticate.js';
import { BODY_ERRORS, errors, noContent, security } from './schemas.js';

/** `GET /v1/me` and `POST /v1/me/password`. */
export async function meRoutes(app: FastifyInstance): Promise<void> {
  const passwords: PasswordChangeDeps = app.tessera;
  const auth = app.authenticateUser;

  app.get(
    '/v1/me',
    {
      preHandler: auth,
      schema: {
        summary: 'Who am I: from the token alone for Bearer (no store read), from the session store for cookies',
        description:
          "`roles` for Bearer are the token's claim, as they were when it was issued (at most one access-token lifetime ago); for a cookie, as stored now",
        tags: ['accounts'],
        security: security.user,
        response: {
          200: {
            description: 'The user: `id` equals `sub`; `email` only when known (a Bearer token carries it or not), `name` null when unset',
            type: 'object',
            required: ['sub', 'id', 'name', 'roles', 'auth', 'sid'],
            properties: {
              sub: { type: 'string' },
              id: { type: 'string' },
              email: { type: 'string' },
              name: { type: ['string', 'null'] },
              roles: { type: 'array', items: { type: 'string' } },
              auth: { type: 'string', enum: ['jwt', 'session'] },
              sid: { type: ['string', 'null'] },
            },
          },
          ...errors(400, 401, 503),
        },
      },
    },
    async (request) => {
      const a = requireAuth(request);
      if (a.kind === 'jwt') {
        const { claims } = a;
        // Userinfo shape (OIDC Core §5.3): `sub` always; `id` kept for existing callers. `name` is
        // null rather than absent when unknown, so both kinds of answer have the same members.
        return {
          sub: claims.sub,
          id: claims.sub,
          auth: 'jwt',
          sid: a.sid,
          ...(claims.email ? { email: claims.email } : {}),
          name: claims.name ?? null,
          roles: claims.roles ?? [],
        };
      }
      const { user } = a;
      return { sub: user.id, id: user.id, email: user.email, name: user.name ?? null, roles: user.roles, auth: 'session', sid: a.sid };
    },
  );

  app.post<{ Body: { current_password: string; new_password: string } }>(
    '/v1/me/password',
    {
      preHandler: auth,
      schema: {
        summary: 'Change my password; my other sessions are revoked',
        tags: ['accounts'],
        security: security.userChange,
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: {
          type: 'object',
          required: ['current_password', 'new_password'],
          additionalProperties: false,
          properties: { current_password: { type: 'string', maxLength: 4096 }, new_password: { type: 'string', maxLength: 4096 } },
        },
        response: {
          204: noContent('Changed; every other session of the user is revoked'),
          ...errors(...BODY_ERRORS, 401, 403, 429, 503, {
            400: 'Malformed request, a wrong current password (`invalid_grant`), or a new password the policy refuses (`weak_password`)',
          }),
        },
      },
    },
    async (request, reply) => {
      const a = requireAuth(request);
      const { current_password, new_password } = request.body;
      await changePassword(passwords, { userId: a.userId, sid: a.sid, currentPassword: current_password, newPassword: new_password });
      return reply.code(204).send();
    },
  );
}
