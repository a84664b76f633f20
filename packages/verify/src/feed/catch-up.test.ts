import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { RevocationFeed } from '../index.js';
import { poll } from '../test-support.js';

/** Starts a feed (fast retries) against `server`, runs `body`, and closes both. */
async function withFeedAgainst(server: Server, body: (feed: RevocationFeed) => Promise<void>): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const feed = new RevocationFeed({ issuer: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, minRetryMs: 10, maxRetryMs: 40 });
  try {
    await feed.start();
    await body(feed);
  } finally {
    feed.close();
    server.closeAllConnections();
    server.close();
  }
}

describe('RevocationFeed catch-up', () => {
  it('a catch-up that fails while the stream is up is retried until it succeeds', async () => {
    let catchUps = 0;
    const events = [{ cursor: '1', sid: 'missed', sub: null, not_before: 1, until: 9e9 }];
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/v1/revocations/stream')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' }).write(': connected\n\n');
        return;
      }
      // The first three catch-ups fail (at start, at connect, and the first retry).
      if (++catchUps <= 3) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ events, cursor: '1' }));
    });
    await withFeedAgainst(server, async (feed) => {
      await poll(() => feed.status().rules === 1, 'the retried catch-up to bring the missed event');
      expect(feed.status()).toMatchObject({ connected: true, cursor: '1' });
      expect(catchUps).toBe(4);
    });
  });

  it('a retried catch-up still reads the gap when live events moved the cursor past it meanwhile', async () => {
    const asked: string[] = [];
    const gap = { cursor: '15', sid: 'missed-in-gap', sub: null, not_before: 1, until: 9e9 };
    const live = { cursor: '20', sid: 'live', sub: null, not_before: 1, until: 9e9 };
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/v1/revocations/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`: connected\n\nid: 20\nevent: revocation\ndata: ${JSON.stringify(live)}\n\n`);
        return;
      }
      asked.push(url.searchParams.get('since') ?? '');
      if (asked.length <= 2) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{}');
      const since = Number(url.searchParams.get('since'));
      const events = [gap, live].filter((e) => Number(e.cursor) > since);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ events, cursor: '20' }));
    });
    await withFeedAgainst(server, async (feed) => {
      await poll(() => feed.isRevoked({ iss: 'x', sub: 'u', aud: 'a', exp: 9e9, iat: 0, sid: 'missed-in-gap' }), 'the gap to be read');
      expect(asked.slice(0, 3)).toEqual(['0', '0', '0']);
      expect(feed.status().cursor).toBe('20');
    });
  });
});
