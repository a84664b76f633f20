import type { FastifyInstance, FastifyReply } from 'fastify';
import { STORE_RETRY_AFTER } from '../lib/store-health.js';
import { errors, security, textBody } from './schemas.js';

const status = (value: string, description: string) => ({
  description,
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: [value] } },
});

function notReady(reply: FastifyReply, description: string): FastifyReply {
  return reply
    .code(503)
    .header('retry-after', String(STORE_RETRY_AFTER))
    .header('cache-control', 'no-store')
    .send({ error: 'not_ready', error_description: description });
}

/** `GET /healthz`, `GET /readyz`, `GET /metrics`. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness',
        tags: ['operations'],
        security: security.none,
        response: { 200: status('ok', 'The process answers'), ...errors(400) },
      },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: the stores take writes, and no request found them down in the last seconds',
        tags: ['operations'],
        security: security.none,
        response: {
          200: status('ready', 'The stores answer'),
          ...errors(400, { 503: 'Not ready (`not_ready`): a store is unreachable or failed a request in the last seconds' }),
        },
      },
    },
    async (_request, reply) => {
      // Before the ping: on a full disk the ping's one-row upsert may still fit while every insert
      // fails, so what requests saw counts first.
      if (t.storeHealth.recentlyFailed()) return notReady(reply, 'the store failed a request in the last few seconds');
      try {
        // A write: a store that can be read but not written is not ready.
        await t.stores.ping();
      } catch (err) {
        t.storeHealth.pingFailed(err);
        return notReady(reply, 'the store is unreachable or cannot be written');
      }
      t.storeHealth.recovered();
      return { status: 'ready' };
    },
  );
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        tags: ['operations'],
        security: security.none,
        response: { 200: textBody('text/plain', 'Prometheus text exposition format'), ...errors(400) },
      },
    },
    async (_request, reply) => {
      reply.type(t.metrics.registry.contentType);
      return t.metrics.registry.metrics();
    },
  );
}
