import type { ServerResponse } from 'node:http';
import { InvalidCursorError, type RevocationEvent, type RevocationStore } from '@tessera/stores';
import type { FastifyInstance } from 'fastify';
import { RefusalCodes, Refused } from '../lib/errors.js';
import { FairTurns } from '../lib/fair-turns.js';
import { type RevocationBus, toWire, type WireEvent } from '../lib/revocation-bus.js';
import { FEED_ERRORS, security, textBody } from './schemas.js';

const CURSOR = /^[A-Za-z0-9_.:-]{1,64}$/;
/** Comment lines keep idle streams open through proxies and let both ends notice a dead peer. */
const HEARTBEAT_MS = 15_000;
/** Most open streams per node; verifiers hold one each. */
const MAX_STREAMS = 1000;
/** Events per page of a replay: one store read and one write each (~75 KB). */
export const REPLAY_PAGE = 500;
/** A reader that takes nothing of a replay page for this long is cut off; it resumes with Last-Event-ID. */
const DRAIN_TIMEOUT_MS = 30_000;
/**
 * Live events held for one stream while its backlog is replayed. A replay slow enough to gather
 * more is cut off instead of growing the heap; the client resumes after what it received.
 */
const MAX_HELD = 10_000;
/** A live stream whose client stops reading is cut off once this much is queued for it. */
const MAX_BUFFERED = 1024 * 1024;

/** Reads a client-supplied cursor: absent, empty or "0" mean "from the oldest retained event". */
export function cursorParam(value: unknown): string | null {
  if (value === undefined || value === '' || value === '0') return null;
  if (typeof value !== 'string' || !CURSOR.test(value)) throw new Refused(RefusalCodes.INVALID_REQUEST, 'since is not a cursor');
  return value;
}

/** `store.since`, with a cursor the store never handed out refused as a bad request. */
export async function eventsSince(store: RevocationStore, cursor: string | null, limit: number): Promise<RevocationEvent[]> {
  try {
    return await store.since(cursor, limit);
  } catch (err) {
    if (err instanceof InvalidCursorError) throw new Refused(RefusalCodes.INVALID_REQUEST, 'since is not a cursor of this feed');
    throw err;
  }
}

/** Every store's cursors are decimal sequence numbers: compared as numbers ("9" is before "10"). */
const after = (cursor: string, than: string | null) => than === null || BigInt(cursor) > BigInt(than);

const frame = (e: WireEvent) => `id: ${e.cursor}\nevent: revocation\ndata: ${JSON.stringify(e)}\n\n`;

/** True while the response can still take a write (a write after `end()` would raise an error). */
const open = (res: ServerResponse) => !res.destroyed && !res.writableEnded;

/** Writes to a live stream, dropping a client that does not read (it reconnects and catches up). */
function send(res: ServerResponse, chunk: string): void {
  if (!open(res)) return;
  res.write(chunk);
  if (res.writableLength > MAX_BUFFERED) res.destroy();
}

/** Resolves true once `res` has flushed what it holds, false when it closes or `ms` pass first. */
function drained(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), ms);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/**
 * Writes the retained events from the first page on, page by page. Each page is built and
 * written whole in a slice of `turns`, so a long backlog replayed to many streams at once never
 * holds other requests; then the replay waits for the socket to take the page, so a reader
 * slower than the replay sets its pace instead of filling the heap. Returns the cursor of the
 * last event written, or undefined when the stream closed or was cut off meanwhile.
 */
async function replay(res: ServerResponse, store: RevocationStore, turns: FairTurns, first: RevocationEvent[], from: string | null) {
  let page = first;
  let last = from;
  for (;;) {
    if (page.length === 0) return last;
    const batch = page;
    const written = await turns.run(() => {
      if (!open(res)) return false;
      res.write(batch.map((e) => frame(toWire(e))).join(''));
      return true;
    });
    if (!written) return undefined;
    last = (page[page.length - 1] as RevocationEvent).cursor;
    if (page.length < REPLAY_PAGE) return last;
    // Asked of the response, not of write()'s answer: a socket that took the page at once may have
    // said so (drain) before this line ran.
    if (res.writableNeedDrain && !(await drained(res, DRAIN_TIMEOUT_MS))) {
      // Stuck: cut off. Only whole events count on the client's side, so its Last-Event-ID resumes
      // exactly after the last one it read.
      res.destroy();
      return undefined;
    }
    page = await eventsSince(store, last, REPLAY_PAGE);
  }
}

/** `GET /v1/revocations/stream`: the retained events after a cursor, then live ones (Server-Sent Events). */
export function streamRoute(app: FastifyInstance, store: RevocationStore, bus: RevocationBus): void {
  const streams = new Set<ServerResponse>();
  const turns = new FairTurns();
  // Open streams would hold a graceful shutdown forever: end them first; clients reconnect elsewhere and catch up.
  app.addHook('preClose', async () => {
    for (const res of streams) res.end();
    streams.clear();
  });

  app.get<{ Querystring: { since?: string } }>(
    '/v1/revocations/stream',
    {
      schema: {
        summary: 'Live revocation events (Server-Sent Events), after the retained ones; resumes after Last-Event-ID',
        tags: ['revocation'],
        security: security.resourceServer,
        querystring: { type: 'object', properties: { since: { type: 'string', maxLength: 64 } } },
        response: {
          200: textBody('text/event-stream', '`revocation` events (`data`: the event as in GET /v1/revocations), comment heartbeats'),
          ...FEED_ERRORS,
        },
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
      // The slot is taken before the first await: a parallel burst of connects would otherwise all
      // pass the check above while each one read its backlog, and overshoot the cap.
      streams.add(res);
      // Subscribed before the backlog is read, so nothing published meanwhile falls between the
      // two: live events wait here during the replay, and those it already carried are dropped.
      let held: WireEvent[] | null = [];
      let replayed: string | null = null;
      const unsubscribe = bus.subscribe((e) => {
        if (held) {
          held.push(e);
          if (held.length > MAX_HELD) res.destroy();
        } else if (after(e.cursor, replayed)) send(res, frame(e));
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
        first = await eventsSince(store, resumeFrom, REPLAY_PAGE);
      } catch (err) {
        cleanUp();
        throw err;
      }
      reply.hijack();
      if (res.destroyed || request.raw.socket?.destroyed) {
        // The client left while the backlog was read: nothing to answer.
        cleanUp();
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(': connected\n\n');
      heartbeat = setInterval(() => send(res, ': ping\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      const last = await replay(res, store, turns, first, resumeFrom).catch(() => {
        // A store read failed mid-replay: end the stream; the client resumes after what it got.
        res.destroy();
        return undefined;
      });
      const pending = held;
      held = null;
      if (last === undefined) return;
      replayed = last;
      for (const e of pending) if (after(e.cursor, replayed)) send(res, frame(e));
    },
  );
}
