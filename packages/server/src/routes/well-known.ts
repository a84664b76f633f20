import type { FastifyInstance } from 'fastify';

/** How long verifiers may cache the JWKS. Keys are published `publishAhead` (1 h) before they sign, well past this. */
export const JWKS_MAX_AGE = 300;

/** `GET /.well-known/jwks.json` and `GET /.well-known/openid-configuration`. */
export async function wellKnownRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const base = t.config.issuer;

  app.get(
    '/.well-known/jwks.json',
    { schema: { summary: 'Public signing keys (next, current, retired)', tags: ['keys'] } },
    async (_request, reply) => {
      reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE}`);
      reply.type('application/jwk-set+json');
      return t.keys.keySet.jwks();
    },
  );

  app.get('/.well-known/openid-configuration', { schema: { summary: 'Discovery document', tags: ['keys'] } }, async (_request, reply) => {
    reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE}`);
    return {
      issuer: base,
      jwks_uri: `${base}/.well-known/jwks.json`,
      token_endpoint: `${base}/v1/token`,
      introspection_endpoint: `${base}/oauth/introspect`,
      revocation_endpoint: `${base}/oauth/revoke`,
      userinfo_endpoint: `${base}/v1/me`,
      grant_types_supported: ['password', 'refresh_token'],
      response_types_supported: ['token'],
      subject_types_supported: ['public'],
      scopes_supported: ['openid', 'profile', 'email'],
      token_endpoint_auth_methods_supported: ['none'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
      revocation_endpoint_auth_methods_supported: ['none'],
      id_token_signing_alg_values_supported: [t.config.signingAlg],
      access_token_signing_alg_values_supported: [t.config.signingAlg],
      revocation_feed_endpoint: `${base}/v1/revocations`,
    };
  });
}
