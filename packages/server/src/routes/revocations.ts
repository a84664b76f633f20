import type { ServerResponse } from 'node:http';
import { InvalidCursorError, type RevocationEvent } from '@tessera/stores';
import type { FastifyInstance } from 'fastify';
import type { Tessera } from '../lib/context.js';
import { badRequest } from '../lib/http-errors.js';
import { toWire, type WireEvent } from '../lib/revocation-bus.js';

const CURSOR = /^[A-Za-z0-9_.:-]{1,64}$/;
/** Comment lines keep idle streams open through proxies and let both ends notice a dead peer. */
const HEARTBEAT_MS = 15_000;

/** Reads a client-supplied cursor: absent, empty or "0" mean "from the oldest retained event". */
function cursorParam(value: unknown): string | null {
  if (value === undefined || value === '' || value === '0') return null;
  if (typeof value !== 'string' || !CURSOR.test(value)) throw badRequest('since is not a cursor');
  return value;
}

async function eventsSince(t: Tessera, cursor: string | null, limit: number): Promise<RevocationEvent[]> {
  try {
    return await t.stores.revocations.since(cursor, limit);
  } catch (err) {
    if (err instanceof InvalidCursorError) throw badRequest('since is not a cursor of this feed');
    throw err;
  }
}

/** Most open streams per node; verifiers hold one each. */
const MAX_STREAMS = 1000;
/** A client that stops reading is cut off once this much is queued for it, instead of growing the heap. */
const MAX_BUFFERED = 1024 * 1024;

/** Writes to a stream, dropping a client that does not read (it reconnects and catches up). */
function send(res: ServerResponse, chunk: string): void {
  if (res.destroyed) return;
  res.write(chunk);
  if (res.writableLength > MAX_BUFFERED) res.destroy();
}

function writeEvent(res: ServerResponse, e: WireEvent): void {
  send(res, `id: ${e.cursor}\nevent: revocation\ndata: ${JSON.stringify(e)}\n\n`);
}

/** The revocation feed: `GET /v1/revocations?since=` for catching up, `GET /v1/revocations/stream` (SSE) live. */
export async function revocationRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const streams = new Set<ServerResponse>();
  // Open streams would hold a graceful shutdown forever: end them first; clients reconnect elsewhere and catch up.
  app.addHook('preClose', async () => {
    for (const res of streams) res.end();
    streams.clear();
  });

  app.get<{ Querystring: { since?: string; limit?: string } }>(
    '/v1/revocations',
    {
      schema: {
        summary: 'Revocation events after a cursor, oldest first',
        tags: ['revocation'],
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
      const events = await eventsSince(t, cursor, max);
      const last = events[events.length - 1];
      reply.header('cache-control', 'no-store');
      return { events: events.map((e) => toWire(e)), cursor: last ? last.cursor : (cursor ?? '0') };
    },
  );

  app.get<{ Querystring: { since?: string } }>(
    '/v1/revocations/stream',
    {
      schema: {
        summary: 'Live revocation events (Server-Sent Events), after the retained ones; resumes after Last-Event-ID',
        tags: ['revocation'],
        querystring: { type: 'object', properties: { since: { type: 'string', maxLength: 64 } } },
      },
    },
    async (request, reply) => {
      if (streams.size >= MAX_STREAMS) {
        return reply
          .code(503)
          .header('retry-after', '5')
          .send({ error: 'too_many_streams', error_description: 'too many open streams; retry later' });
      }
      const header = request.headers['last-event-id'];
      const resumeFrom = cursorParam(typeof header === 'string' ? header : request.query.since);
      if (request.method === 'HEAD') {
        // The stream's headers, and the end: a HEAD must not hold a stream open with no body to send.
        reply.header('cache-control', 'no-store');
        return reply.type('text/event-stream; charset=utf-8').code(200).send();
      }
      const res = reply.raw;
      // Live events that arrive while the backlog is replayed wait, then go out in order, once.
      const sent = new Set<string>();
      let backlog: WireEvent[] | null = [];
      const unsubscribe = t.bus.subscribe((e) => {
        if (backlog) backlog.push(e);
        else if (!sent.has(e.cursor)) writeEvent(res, e);
      });
      let heartbeat: NodeJS.Timeout | undefined;
      // Attached before the first await: a client gone by then must not leave its subscription behind.
      const cleanUp = () => {
        clearInterval(heartbeat);
        unsubscribe();
        streams.delete(res);
      };
      res.on('close', cleanUp);
      let first: RevocationEvent[];
      try {
        // Validate the cursor (reading the first page) before committing to a stream, so a bad one is a 400.
        // No cursor (or "0") replays every retained event, like `GET /v1/revocations` without `since`.
        first = await eventsSince(t, resumeFrom, 1000);
      } catch (err) {
        cleanUp();
        throw err;
      }
      if (res.destroyed || request.raw.socket?.destroyed) {
        // The client left while the backlog was read: nothing to answer.
        cleanUp();
        reply.hijack();
        return;
      }
      reply.hijack();
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(': connected\n\n');
      streams.add(res);
      heartbeat = setInterval(() => send(res, ': ping\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      try {
        let page = first;
        while (page.length > 0) {
          for (const e of page) {
            writeEvent(res, toWire(e));
            sent.add(e.cursor);
          }
          if (page.length < 1000) break;
          page = await eventsSince(t, (page[page.length - 1] as RevocationEvent).cursor, 1000);
        }
      } finally {
        const pending = backlog;
        backlog = null;
        for (const e of pending) if (!sent.has(e.cursor)) writeEvent(res, e);
        sent.clear();
      }
    },
  );
}
