import type { FastifyInstance } from 'fastify';
import { authenticateClient, basicCredentials, type ClientAuthDeps } from '../lib/client-auth.js';
import { type IntrospectionDeps, introspect } from '../lib/introspection.js';
import { revokeToken, type TokenRevocationDeps } from '../lib/token-revocation.js';
import { BODY_ERRORS, errors, security } from './schemas.js';

interface Body {
  token: string;
  token_type_hint?: string;
}

const bodySchema = {
  type: 'object',
  required: ['token'],
  properties: { token: { type: 'string', maxLength: 16384 }, token_type_hint: { type: 'string', maxLength: 64 } },
} as const;

const introspectionSchema = {
  description: 'RFC 7662 §2.2: `{ active: false }`, or `active: true` with the token type and its claims',
  type: 'object',
  required: ['active'],
  additionalProperties: true,
  properties: {
    active: { type: 'boolean' },
    token_type: { type: 'string', enum: ['Bearer', 'refresh_token'] },
    sub: { type: 'string' },
    sid: { type: 'string' },
    iss: { type: 'string' },
    iat: { type: 'integer' },
    exp: { type: 'integer' },
  },
} as const;

/** RFC 7662 introspection and RFC 7009 revocation. */
export async function oauthRoutes(app: FastifyInstance): Promise<void> {
  const { config, throttle } = app.tessera;
  const clients: ClientAuthDeps = { clients: config.resourceServers, throttle };
  const introspection: IntrospectionDeps = app.tessera;
  const revoking: TokenRevocationDeps = app.tessera;

  app.post<{ Body: Body }>(
    '/oauth/introspect',
    {
      schema: {
        summary: 'RFC 7662 token introspection (resource-server credentials)',
        tags: ['oauth'],
        security: security.resourceServer,
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: bodySchema,
        response: {
          200: introspectionSchema,
          ...errors(...BODY_ERRORS, 429, 503, {
            401: 'Resource-server credentials missing or wrong (`invalid_client`, `WWW-Authenticate: Basic`)',
          }),
        },
      },
    },
    async (request, reply) => {
      await authenticateClient(clients, basicCredentials(request.headers.authorization), request.ip);
      reply.header('cache-control', 'no-store');
      return introspect(introspection, request.body.token);
    },
  );

  app.post<{ Body: Body }>(
    '/oauth/revoke',
    {
      schema: {
        summary: 'RFC 7009 revocation: ends the session of a refresh or access token (a public client revokes its own)',
        tags: ['oauth'],
        security: security.none,
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: bodySchema,
        response: {
          200: { type: 'null', description: 'Revoked, or nothing to revoke (an invalid token gets 200 too, RFC 7009 §2.2); no body' },
          ...errors(...BODY_ERRORS, 503),
        },
      },
    },
    async (request, reply) => {
      await revokeToken(revoking, request.body.token);
      // RFC 7009 §2.2: invalid tokens get 200 too; there is nothing left to revoke.
      return reply.code(200).send();
    },
  );
}
