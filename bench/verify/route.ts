// The Fastify app every non-Tessera row of bench:verify is served by: one /whoami route whose
// authentication step is the only thing that changes from row to row, so the rows differ by it
// alone.
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { Claims, Closers } from './protocol.js';

const unauthorized = { error: 'invalid_token', error_description: 'the access token is invalid' };

/** Listens on a free 127.0.0.1 port; resolves to the server's base URL. */
export function listen(server: Server): Promise<string> {
  return new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

/**
 * A Fastify app with GET /healthz and GET /whoami, the latter answering the claims `authenticate`
 * finds in the request headers, or 401 when it finds none (`null`). Registers its own closing in
 * `closers`; resolves to its base URL.
 */
export async function fastifyWith(
  closers: Closers,
  authenticate: (headers: IncomingMessage['headers']) => Promise<Claims | null>,
): Promise<string> {
  const app = Fastify({ logger: false });
  app.decorateRequest('claims', null);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get(
    '/whoami',
    {
      preHandler: async (request, reply) => {
        const claims = await authenticate(request.headers);
        if (claims === null) return reply.code(401).header('www-authenticate', 'Bearer error="invalid_token"').send(unauthorized);
        request.claims = claims as typeof request.claims;
      },
    },
    async (request) => request.claims,
  );
  closers.push(() => app.close());
  return app.listen({ port: 0, host: '127.0.0.1' });
}
