import { createVerifier, type ResourceVerifier, type ResourceVerifierOptions } from '@tessera/verify';
import { requireScope, tesseraAuth } from '@tessera/verify/fastify';
import Fastify, { type FastifyInstance } from 'fastify';

/** Options of the example service. */
export interface ServiceOptions {
  issuer: string;
  audience: string;
  /** Subscribe to revocations on Redis instead of the issuer's SSE stream. */
  redis?: string;
  /** Redis channel of the revocation feed (the auth server's `TESSERA_REDIS_CHANNEL`). Default `tessera:revocations`. */
  redisChannel?: string;
  /** Keep the last good JWKS here, so a restart during an auth-server outage still verifies. */
  jwksCache?: string;
  /** Keep the revocation rules here too, so a restart during an auth-server outage still refuses revoked tokens. */
  revocationsCache?: string;
  /** Refuse tokens when the revocation feed has been down longer than this many ms. Default: fail open. */
  failClosedAfterMs?: number;
  /**
   * This service's resource-server credentials (the auth server's `TESSERA_RESOURCE_SERVERS`),
   * for the revocation feed's SSE stream and catch-up. Default: none (the feed then answers 401).
   */
  credentials?: { id: string; secret: string };
}

/** Builds the example resource service: `GET /whoami` behind the Tessera Fastify adapter, plus health and feed status. */
export async function buildService(options: ServiceOptions): Promise<{ app: FastifyInstance; verifier: ResourceVerifier }> {
  const revocations: ResourceVerifierOptions['revocations'] = {
    ...(options.redis ? { source: 'redis' as const, redis: options.redis } : {}),
    ...(options.redisChannel ? { channel: options.redisChannel } : {}),
    ...(options.revocationsCache ? { cacheFile: options.revocationsCache } : {}),
    ...(options.failClosedAfterMs !== undefined ? { failMode: 'closed' as const, maxOutageMs: options.failClosedAfterMs } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  const verifier = createVerifier({
    issuer: options.issuer,
    audience: options.audience,
    jwksUri: `${options.issuer}/.well-known/jwks.json`,
    ...(options.jwksCache ? { jwks: { cacheFile: options.jwksCache } } : {}),
    revocations,
  });
  await verifier.ready();
  const app = Fastify({ logger: false });
  await app.register(tesseraAuth, { verifier });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/whoami', { preHandler: app.authenticate }, async (request) => request.claims);
  app.get('/admin', { preHandler: [app.authenticate, requireScope('admin')] }, async (request) => ({ admin: request.claims?.sub }));
  app.get('/status', async () => ({ feed: verifier.feedStatus(), jwks: verifier.jwksStatus() }));
  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(verifier.metrics()));
  app.addHook('onClose', async () => verifier.close());
  return { app, verifier };
}
