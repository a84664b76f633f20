import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { cookieName } from '../http/session-cookie.js';

/**
 * The reference's Content-Security-Policy: its scripts, styles and fonts come from this origin
 * only, its one request goes to this origin (the document, and "try it out"), and nothing else
 * loads. Images may also be `data:` URIs (the logo and the icons Swagger UI inlines).
 */
export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The OpenAPI document at `/openapi.json`, built from every route's `schema` block, and an
 * interactive reference at `/docs` (Swagger UI, served from the installed package: no CDN).
 * Registered at the caller's scope, before the routes, so that it sees all of them.
 */
export async function openapiPlugin(app: FastifyInstance): Promise<void> {
  const { config } = app.tessera;
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Tessera auth server',
        version: '1',
        description:
          'Errors everywhere are `{ error, error_description }`. A known path asked with a method it does not have answers 405 `method_not_allowed` with `Allow`.',
      },
      servers: [{ url: config.issuer }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'An access token from POST /v1/token (RFC 9068 at+jwt)',
          },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: cookieName(config),
            description: 'The session cookie set by POST /v1/sessions',
          },
          csrf: {
            type: 'apiKey',
            in: 'header',
            name: 'X-CSRF-Token',
            description:
              "With the session cookie, on a state change from a client that sends no Origin (not a browser): the session's csrf_token (from login, or GET /v1/sessions/current)",
          },
          resourceServer: {
            type: 'http',
            scheme: 'basic',
            description: 'A resource server id and secret from TESSERA_RESOURCE_SERVERS',
          },
        },
      },
    },
  });

  app.get(
    '/openapi.json',
    {
      schema: {
        summary: 'This document (OpenAPI 3.0)',
        tags: ['reference'],
        security: [],
        response: { 200: { type: 'object', additionalProperties: true, description: 'The OpenAPI document' } },
      },
    },
    async () => app.swagger(),
  );

  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // No validator badge: it would send the document to a third party.
    validatorUrl: false,
    staticCSP: DOCS_CSP,
    uiConfig: { deepLinking: true, tryItOutEnabled: false },
    theme: { title: 'Tessera auth server: API reference' },
    uiHooks: {
      onRequest: (_request, reply, done) => {
        reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
        done();
      },
    },
  });
}
// Registered at the caller's scope, as fastify-plugin does: the document must see every route.
Object.assign(openapiPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'tessera-openapi',
});
