import type { FastifyInstance } from 'fastify';
import type { Tessera } from '../context.js';
import { JWKS_MAX_AGE } from '../lib/key-manager.js';
import { errors, security } from './schemas.js';

const jwksSchema = {
  description: 'The JSON Web Key Set (RFC 7517): public keys only',
  content: {
    'application/jwk-set+json': {
      schema: {
        type: 'object',
        required: ['keys'],
        properties: { keys: { type: 'array', items: { type: 'object', required: ['kty', 'kid', 'alg'], additionalProperties: true } } },
      },
    },
  },
} as const;

const str = { type: 'string' } as const;
const strings = { type: 'array', items: str } as const;
const discoverySchema = {
  description: 'RFC 8414 authorization server metadata',
  type: 'object',
  // Metadata grows by members; a new one must not be dropped by a schema that predates it.
  additionalProperties: true,
  properties: {
    issuer: str,
    jwks_uri: str,
    token_endpoint: str,
    introspection_endpoint: str,
    revocation_endpoint: str,
    userinfo_endpoint: str,
    grant_types_supported: strings,
    scopes_supported: strings,
    token_endpoint_auth_methods_supported: strings,
    introspection_endpoint_auth_methods_supported: strings,
    revocation_endpoint_auth_methods_supported: strings,
    access_token_signing_alg_values_supported: strings,
    revocation_feed_endpoint: str,
  },
} as const;

export { JWKS_MAX_AGE };

/**
 * The discovery document (RFC 8414 metadata, at the path OpenID clients read): only what this
 * server does. No ID token is issued and there is no authorization endpoint, so nothing OpenID
 * Connect-specific is claimed (`id_token_signing_alg_values_supported`, `response_types_supported`,
 * `subject_types_supported`); a client library reading it must not go looking for them.
 */
export function discoveryDocument(t: Tessera): Record<string, unknown> {
  const base = t.config.issuer;
  return {
    issuer: base,
    jwks_uri: `${base}/.well-known/jwks.json`,
    token_endpoint: `${base}/v1/token`,
    introspection_endpoint: `${base}/oauth/introspect`,
    revocation_endpoint: `${base}/oauth/revoke`,
    userinfo_endpoint: `${base}/v1/me`,
    grant_types_supported: ['password', 'refresh_token'],
    scopes_supported: [...t.config.scopes],
    // The token endpoint takes public clients only: a client_id, if sent, is no credential.
    token_endpoint_auth_methods_supported: ['none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
    // A public client revokes its own token; no client authentication is asked for.
    revocation_endpoint_auth_methods_supported: ['none'],
    // The keys that sign now or will sign next: during an algorithm change, both algorithms.
    access_token_signing_alg_values_supported: t.keys.signingAlgorithms(),
    revocation_feed_endpoint: `${base}/v1/revocations`,
  };
}

/** `GET /.well-known/jwks.json` and `GET /.well-known/openid-configuration`. */
export async function wellKnownRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;

  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        summary: 'Public signing keys (next, current, retired)',
        tags: ['keys'],
        security: security.none,
        response: { 200: jwksSchema, ...errors(400) },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE}`);
      reply.type('application/jwk-set+json');
      return t.keys.keySet.jwks();
    },
  );

  app.get(
    '/.well-known/openid-configuration',
    {
      schema: {
        summary: 'Discovery document',
        tags: ['keys'],
        security: security.none,
        response: { 200: discoverySchema, ...errors(400) },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE}`);
      return discoveryDocument(t);
    },
  );
}
