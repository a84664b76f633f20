import type { FastifyInstance } from 'fastify';
import { authenticateClient, basicCredentials, type ClientAuthDeps } from '../lib/client-auth.js';
import { toWire } from '../lib/revocation-bus.js';
import { cursorParam, eventsSince, streamRoute } from './revocation-stream.js';
import { FEED_ERRORS, security } from './schemas.js';

const eventSchema = {
  type: 'object',
  required: ['cursor', 'sid', 'sub', 'not_before', 'until'],
  properties: {
    cursor: { type: 'string' },
    sid: { type: ['string', 'null'], description: 'the session revoked, or null when every session of `sub` is' },
    sub: { type: ['string', 'null'] },
    not_before: { type: 'integer', description: 'tokens issued before this (seconds) are revoked' },
    until: { type: 'integer', description: 'seconds; no token it covers outlives this' },
    at: { type: 'integer' },
  },
} as const;

/**
 * The revocation feed: `GET /v1/revocations?since=` for catching up, `GET /v1/revocations/stream`
 * (SSE) live. Every event names a session or user that just logged out, so both routes answer
 * only resource servers from `TESSERA_RESOURCE_SERVERS`, by HTTP Basic, throttled like
 * introspection. With none configured the feed is closed, and the server says so at start.
 */
export async function revocationRoutes(app: FastifyInstance): Promise<void> {
  const { stores, bus, config, throttle } = app.tessera;
  const clients: ClientAuthDeps = { clients: config.resourceServers, throttle };
  if (config.resourceServers.size === 0) {
    app.log.warn(
      'revocation feed closed: no resource server may read /v1/revocations; set TESSERA_RESOURCE_SERVERS (id:secret,…) to open it to verifiers',
    );
  }
  // Before anything else reads the request: a caller without credentials learns nothing, not even
  // whether its cursor is valid. This plugin is encapsulated, so the hook guards these routes only.
  app.addHook('onRequest', async (request) => {
    await authenticateClient(clients, basicCredentials(request.headers.authorization), request.ip);
  });

  app.get<{ Querystring: { since?: string; limit?: string } }>(
    '/v1/revocations',
    {
      schema: {
        summary: 'Revocation events after a cursor, oldest first (resource-server credentials)',
        tags: ['revocation'],
        security: security.resourceServer,
        response: {
          200: {
            description: 'Events after `since`, oldest first, and the cursor to ask from next',
            type: 'object',
            required: ['events', 'cursor'],
            properties: { events: { type: 'array', items: eventSchema }, cursor: { type: 'string' } },
          },
          ...FEED_ERRORS,
        },
        querystring: {
          type: 'object',
          properties: { since: { type: 'string', maxLength: 64 }, limit: { type: 'string', pattern: '^[0-9]{1,4}$' } },
        },
      },
    },
    async (request, reply) => {
      const cursor = cursorParam(request.query.since);
      const limit = request.query.limit;
      const max = limit === undefined ? 500 : Math.min(1000, Math.max(1, Number(limit)));
      const events = await eventsSince(stores.revocations, cursor, max);
      const last = events[events.length - 1];
      reply.header('cache-control', 'no-store');
      return { events: events.map((e) => toWire(e)), cursor: last ? last.cursor : (cursor ?? '0') };
    },
  );

  streamRoute(app, stores.revocations, bus);
}
