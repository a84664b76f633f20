import type { FastifyInstance } from 'fastify';
import { checkSiteHeaders } from '../http/csrf.js';
import { type RegistrationDeps, register } from '../lib/registration.js';
import { BODY_ERRORS, errors, security, userSchema } from './schemas.js';

interface Body {
  email: string;
  password: string;
  name?: string;
}

/** `POST /v1/users`: sign up. */
export async function userRoutes(app: FastifyInstance): Promise<void> {
  const { config, stores, clock, throttle } = app.tessera;
  const registrations: RegistrationDeps = { users: stores.users, throttle, clock, signupsPerHour: config.signupsPerHour };
  app.post<{ Body: Body }>(
    '/v1/users',
    {
      schema: {
        summary: 'Create an account',
        tags: ['accounts'],
        security: security.none,
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: {
          type: 'object',
          required: ['email', 'password'],
          additionalProperties: false,
          properties: {
            email: { type: 'string', maxLength: 1024 },
            password: { type: 'string', maxLength: 4096 },
            name: { type: 'string', maxLength: 200 },
          },
        },
        response: {
          201: { ...userSchema, description: 'The account' },
          ...errors(...BODY_ERRORS, 403, 429, 503, {
            400: 'Malformed request (`invalid_request`), or a password the policy refuses (`weak_password`)',
            409: 'An account with this email exists (`email_taken`)',
          }),
        },
      },
    },
    async (request, reply) => {
      checkSiteHeaders(config, request);
      const { email, password, name } = request.body;
      const user = await register(registrations, { email, password, name, ip: request.ip });
      return reply.code(201).send({ id: user.id, email: user.email, name: user.name, created_at: new Date(user.createdAt).toISOString() });
    },
  );
}
