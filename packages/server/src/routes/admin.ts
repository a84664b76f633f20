import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AdminError } from '../admin/errors.js';
import { type RoleDeps, rolesOf, setRoles } from '../admin/roles.js';
import { RefusalCodes, Refused } from '../lib/errors.js';
import { isDisabled } from '../lib/login.js';
import { MAX_ROLES } from '../lib/roles.js';
import { requireAuth } from '../plugins/authenticate.js';
import { BODY_ERRORS, errors, security } from './schemas.js';

const rolesAnswer = {
  type: 'object',
  required: ['id', 'roles'],
  properties: { id: { type: 'string' }, roles: { type: 'array', items: { type: 'string' } } },
} as const;

const params = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 320, description: "the user's id (or email)" } },
} as const;

const FORBIDDEN = {
  403: "The caller's stored roles lack the admin role (`insufficient_role`), or a cookie-authenticated change failed the CSRF check",
};
const NOT_FOUND = { 404: 'No such user (`user_not_found`)' };

/** An administrative refusal as the HTTP edge answers it. */
function refusalOf(err: unknown): never {
  if (err instanceof AdminError) {
    if (err.code === 'user_not_found') throw new Refused(RefusalCodes.USER_NOT_FOUND, err.message);
    if (err.code === 'invalid_role') throw new Refused(RefusalCodes.INVALID_ROLE, err.message);
    throw new Refused(RefusalCodes.INVALID_REQUEST, err.message);
  }
  throw err;
}

/**
 * `GET` and `PUT /v1/admin/users/:id/roles`: a user's roles, for callers holding the admin role
 * (`TESSERA_ADMIN_ROLE`). The caller's roles are read from the store on every call, never taken
 * from the token's `roles` claim, which may be an access-token lifetime old: a revoked admin is
 * refused at once.
 */
export async function adminRoutes(app: FastifyInstance): Promise<void> {
  const { config, stores } = app.tessera;
  const roles: RoleDeps = app.tessera;

  /** preHandler after authentication: the caller exists, is not disabled, and holds the admin role now. */
  async function requireAdmin(request: FastifyRequest): Promise<void> {
    const caller = await stores.users.findById(requireAuth(request).userId);
    if (!caller || isDisabled(caller) || !caller.roles.includes(config.adminRole)) {
      throw new Refused(RefusalCodes.INSUFFICIENT_ROLE, `this needs the ${config.adminRole} role`);
    }
  }
  const guard = [app.authenticateUser, requireAdmin];

  app.get<{ Params: { id: string } }>(
    '/v1/admin/users/:id/roles',
    {
      preHandler: guard,
      schema: {
        summary: "A user's roles (admin role required)",
        tags: ['admin'],
        security: security.user,
        params,
        response: { 200: { ...rolesAnswer, description: 'The roles as stored' }, ...errors(400, 401, FORBIDDEN, NOT_FOUND, 503) },
      },
    },
    async (request) => rolesOf(roles, request.params.id).catch(refusalOf),
  );

  app.put<{ Params: { id: string }; Body: { roles: string[] } }>(
    '/v1/admin/users/:id/roles',
    {
      preHandler: guard,
      schema: {
        summary: "Replace a user's roles (admin role required)",
        description:
          'Tokens issued from now on carry the new roles; a scope a removed role allowed drops at the next refresh, and the admin API itself reads roles from the store on every call.',
        tags: ['admin'],
        security: security.userChange,
        params,
        consumes: ['application/json'],
        body: {
          type: 'object',
          required: ['roles'],
          additionalProperties: false,
          properties: {
            roles: {
              type: 'array',
              // Bounded here; names and the per-user limit are checked as the admin API checks them (`invalid_role`).
              maxItems: 256,
              items: { type: 'string', maxLength: 256 },
              description: `role names (lower-case letters, digits and _ . : -, starting with a letter; at most ${MAX_ROLES})`,
            },
          },
        },
        response: {
          200: { ...rolesAnswer, description: 'The roles after the change' },
          ...errors(...BODY_ERRORS, 401, FORBIDDEN, NOT_FOUND, 503, {
            400: 'Malformed request (`invalid_request`), or a role name that is invalid or one too many (`invalid_role`)',
          }),
        },
      },
    },
    async (request) => setRoles(roles, request.params.id, request.body.roles).catch(refusalOf),
  );
}
