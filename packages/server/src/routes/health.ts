import type { FastifyInstance } from 'fastify';

/** `GET /healthz`, `GET /readyz`, `GET /metrics`. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['operations'] } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { summary: 'Readiness: the stores answer', tags: ['operations'] } }, async (_request, reply) => {
    try {
      await t.stores.ping();
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ error: 'not_ready', error_description: 'the store is unreachable' });
    }
  });
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['operations'] } }, async (_request, reply) => {
    reply.type(t.metrics.registry.contentType);
    return t.metrics.registry.metrics();
  });
}
