import { tesseraAuth } from '@tessera/verify/fastify';
import Fastify, { type FastifyRequest } from 'fastify';
import { HOST, PortInUseError } from '../ports.js';
import { corsHeaders, demoVerifier, type HelloBody, roundMs, type ServiceOptions, serverTiming } from './common.js';
import type { DemoService } from './service.js';

/**
 * The Fastify service: `GET /hello` behind `@tessera/verify/fastify`, answering which service it
 * is, the verified claims and how long the verification took. `GET /status` shows its JWKS and
 * revocation-feed state (no token needed: nothing secret in it).
 */
export async function startFastifyService(options: ServiceOptions & { port: number }): Promise<DemoService> {
  const verifier = demoVerifier(options);
  await verifier.ready();
  const app = Fastify({ logger: false });
  const verifyMs = new WeakMap<FastifyRequest, number>();

  app.addHook('onRequest', async (request, reply) => {
    const preflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
    reply.headers(corsHeaders(options.appOrigin, request.headers.origin, preflight));
    if (preflight) return reply.code(204).send();
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not_found', error_description: 'no such route' }));
  app.setErrorHandler((error: { statusCode?: number }, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    return reply.code(status).send({ error: status === 500 ? 'server_error' : 'invalid_request', error_description: 'request refused' });
  });
  await app.register(tesseraAuth, { verifier });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/status', async () => ({ service: 'fastify', feed: verifier.feedStatus(), jwks: verifier.jwksStatus() }));
  app.get(
    '/hello',
    {
      // Timed around the adapter's verification alone: what every request to a service pays.
      preHandler: async (request, reply) => {
        const started = performance.now();
        await app.authenticate(request, reply);
        verifyMs.set(request, performance.now() - started);
      },
    },
    async (request, reply): Promise<HelloBody> => {
      const ms = verifyMs.get(request) ?? 0;
      reply.header('server-timing', serverTiming(ms));
      return { service: 'fastify', claims: request.claims ?? {}, verify_ms: roundMs(ms) };
    },
  );
  app.addHook('onClose', async () => verifier.close());

  try {
    await app.listen({ port: options.port, host: HOST });
  } catch (err) {
    await app.close();
    throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new PortInUseError(options.port, 'Fastify service') : err;
  }
  return { url: `http://localhost:${options.port}`, close: () => app.close() };
}
