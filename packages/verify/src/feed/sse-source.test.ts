import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RevocationFeed } from '../index.js';
import { poll } from '../test-support.js';

// Half-open connections: a peer that vanished without FIN or RST never errors the socket, so only
// silence can tell. The auth server writes a heartbeat every 15 s; the feed gives up after its
// sseIdleTimeoutMs of nothing, and reconnects (then catches up).
describe('a silent SSE peer', () => {
  let server: Server;
  let issuer: string;
  let streamRequests = 0;
  let mode: 'silent-stream' | 'no-answer' = 'silent-stream';
  const held = new Set<ServerResponse>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith('/v1/revocations/stream')) {
        streamRequests++;
        held.add(res);
        if (mode === 'silent-stream') res.writeHead(200, { 'content-type': 'text/event-stream' }).flushHeaders();
        return; // and then nothing, ever
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"events":[]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  for (const m of ['silent-stream', 'no-answer'] as const) {
    it(`${m === 'silent-stream' ? 'a stream that sends nothing after its headers' : 'a server that never answers'} is dropped after sseIdleTimeoutMs and retried`, async () => {
      mode = m;
      const before = streamRequests;
      const feed = new RevocationFeed({
        issuer,
        sseIdleTimeoutMs: 150,
        minRetryMs: 10,
        maxRetryMs: 20,
        failMode: 'closed',
        maxOutageMs: 400,
      });
      try {
        await feed.start();
        await poll(
          () => streamRequests >= before + 3 && feed.status().reconnects >= 2,
          'the feed to give up on the silent stream and retry',
        );
        // Never counted as connected (no byte came), so the outage keeps running and fail-closed applies.
        expect(feed.status().connected).toBe(false);
        await poll(() => feed.failingClosed(), 'fail-closed to apply while the peer stays silent');
      } finally {
        feed.close();
      }
    });
  }

  it('refuses a sseIdleTimeoutMs that is not a positive number', () => {
    for (const sseIdleTimeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      expect(() => new RevocationFeed({ issuer, sseIdleTimeoutMs })).toThrow(/sseIdleTimeoutMs/);
    }
  });
});
