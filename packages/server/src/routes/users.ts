import { randomUUID } from 'node:crypto';
import { EmailTakenError } from '@tessera/stores';
import type { FastifyInstance } from 'fastify';
import { badRequest, HttpError, tooManyRequests } from '../lib/http-errors.js';
import { hashPassword, normalizeEmail, passwordProblem } from '../lib/passwords.js';
import { registrationTarget } from '../lib/throttle.js';
import { checkSiteHeaders } from '../plugins/authenticate.js';
import { errorSchema, userSchema } from './schemas.js';

interface Body {
  email: string;
  password: string;
  name?: string;
}

/** `POST /v1/users`: sign up. */
export async function userRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  app.post<{ Body: Body }>(
    '/v1/users',
    {
      schema: {
        summary: 'Create an account',
        tags: ['accounts'],
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
        response: { 201: userSchema, 400: errorSchema, 409: errorSchema, 429: errorSchema },
      },
    },
    async (request, reply) => {
      checkSiteHeaders(t, request);
      const email = normalizeEmail(request.body.email);
      if (!email) throw badRequest('email is not a valid address');
      const problem = passwordProblem(request.body.password, email);
      if (problem) throw badRequest(problem, 'weak_password');
      const name = request.body.name?.normalize('NFKC').trim() || null;
      // "email_taken" tells whoever asks that an account exists: each client address may learn that
      // only a few times an hour. Every attempt is charged up front (so a parallel burst meets the
      // back-off too) and a created account takes its charge back.
      const claim = await t.throttle.claim(...registrationTarget(request.ip));
      if (claim.wait > 0) throw tooManyRequests(claim.wait);
      const now = t.clock();
      const user = {
        id: randomUUID(),
        email,
        name,
        passwordHash: await hashPassword(request.body.password),
        roles: [],
        createdAt: now,
        updatedAt: now,
      };
      try {
        await t.stores.users.create(user);
      } catch (err) {
        if (err instanceof EmailTakenError) throw new HttpError(409, 'email_taken', 'an account with this email exists');
        throw err;
      }
      await claim.forgive();
      return reply.code(201).send({ id: user.id, email, name, created_at: new Date(now).toISOString() });
    },
  );
}
