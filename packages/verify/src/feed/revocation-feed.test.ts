import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSseParser,
  createVerifier,
  type ResourceVerifier,
  type ResourceVerifierOptions,
  RevocationFeed,
  type SseEvent,
  verifyRequest,
  type WireEvent,
} from '../index.js';
import { type AuthServer, startAuthServer } from '../test-auth-server.js';
import { codeOf, type GatedFetch, gatedFetch, manualClock, poll } from '../test-support.js';

/** Revocations reach a connected verifier in well under this (the design goal is 100 ms p99). */
const PROPAGATION_MS = 2_000;

function verifierFor(auth: AuthServer, revocations: ResourceVerifierOptions['revocations'] = {}): ResourceVerifier {
  const options = typeof revocations === 'object' ? { minRetryMs: 10, maxRetryMs: 50, ...revocations } : revocations;
  return createVerifier({
    issuer: auth.issuer,
    audience: auth.issuer,
    jwksUri: `${auth.issuer}/.well-known/jwks.json`,
    revocations: options,
    // The server's clock is frozen: tokens carry its time, so the verifier reads the same clock.
    clock: auth.t.clock,
  });
}

async function connected(verifier: ResourceVerifier): Promise<void> {
  await verifier.ready();
  await poll(() => verifier.feedStatus()?.connected, 'the revocation feed to connect');
}

/** Waits (bounded) until the verifier refuses `token` as revoked. */
async function refusedAsRevoked(verifier: ResourceVerifier, token: string, timeoutMs = PROPAGATION_MS): Promise<void> {
  await poll(
    async () => (await codeOf(() => verifier.verify(token))) === ErrorCodes.TOKEN_REVOKED,
    'the token to be refused as revoked',
    timeoutMs,
  );
}

async function cursors(auth: AuthServer): Promise<string[]> {
  const res = await fetch(`${auth.issuer}/v1/revocations?since=0`);
  const body = (await res.json()) as { events: WireEvent[] };
  return body.events.map((e) => e.cursor);
}

/** Reads SSE events from a live response until `count` have arrived (bounded). */
async function readEvents(res: Response, count: number, timeoutMs = PROPAGATION_MS): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const parse = createSseParser((e) => events.push(e));
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const deadline = performance.now() + timeoutMs;
  while (events.length < count) {
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`got ${events.length} of ${count} events`);
    let timer: NodeJS.Timeout | undefined;
    const chunk = await Promise.race([
      reader.read(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`got ${events.length} of ${count} events before the timeout`)), left);
      }),
    ]).finally(() => clearTimeout(timer));
    if (chunk.done) throw new Error('stream ended');
    parse(decoder.decode(chunk.value, { stream: true }));
  }
  reader.releaseLock();
  return events;
}

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

describe('revocation feed (SSE) against the real auth server', () => {
  let auth: AuthServer;
  let verifier: ResourceVerifier;

  beforeAll(async () => {
    auth = await startAuthServer();
    verifier = verifierFor(auth);
    await connected(verifier);
  });

  afterAll(async () => {
    verifier?.close();
    await auth?.close();
  });

  it('a logged-in token verifies; after logout it is refused, and the session’s sibling is not', async () => {
    const email = await auth.register();
    const a = await auth.login(email);
    const b = await auth.login(email);
    expect(await verifier.verify(a.access_token)).toMatchObject({ sid: a.sid, sub: a.sub, iss: auth.issuer });

    await auth.logout(a.access_token);
    await refusedAsRevoked(verifier, a.access_token);
    expect((await verifier.verify(b.access_token)).sid).toBe(b.sid);

    const result = await verifyRequest(verifier, { authorization: `Bearer ${a.access_token}` });
    expect(result).toMatchObject({
      ok: false,
      refusal: { status: 401, body: { error: 'invalid_token', error_description: 'the access token was revoked' } },
    });
  });

  it('log out everywhere refuses every token of that user, and only theirs', async () => {
    const email = await auth.register();
    const sessions = [await auth.login(email), await auth.login(email), await auth.login(email)];
    const bystander = await auth.login(await auth.register());
    for (const s of sessions) await verifier.verify(s.access_token);

    await auth.logoutEverywhere((sessions[1] as { access_token: string }).access_token);
    for (const s of sessions) await refusedAsRevoked(verifier, s.access_token);
    expect((await verifier.verify(bystander.access_token)).sub).toBe(bystander.sub);
  });

  it('feedStatus() and metrics() show the connection, the cursor and the lag', async () => {
    const s = await auth.login(await auth.register());
    await auth.logout(s.access_token);
    await refusedAsRevoked(verifier, s.access_token);
    const all = await cursors(auth);
    const status = verifier.feedStatus();
    expect(status).toMatchObject({ source: 'sse', connected: true, downSince: null, cursor: all.at(-1), failingClosed: false });
    expect(status?.events).toBeGreaterThanOrEqual(all.length);
    expect(status?.rules).toBeGreaterThan(0);
    // Both clocks are the same frozen clock: the measured lag is exactly 0.
    expect(status?.lagMs).toBe(0);
    const metrics = verifier.metrics();
    expect(metrics).toContain('tessera_verify_feed_connected{source="sse"} 1');
    expect(metrics).toMatch(/^tessera_verify_feed_lag_seconds 0$/m);
    expect(metrics).toMatch(/^# TYPE tessera_verify_feed_lag_seconds gauge$/m);
    expect(metrics).toMatch(/^tessera_verify_jwks_keys [1-9]/m);
  });

  it('the SSE stream replays the events after Last-Event-ID, then goes on live', async () => {
    const email = await auth.register();
    const before = (await cursors(auth)).at(-1) ?? '0';
    for (let i = 0; i < 3; i++) await auth.logout((await auth.login(email)).access_token);
    const missed = (await cursors(auth)).slice(-3);

    const abort = new AbortController();
    try {
      const res = await fetch(`${auth.issuer}/v1/revocations/stream`, { headers: { 'last-event-id': before }, signal: abort.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const replayed = await readEvents(res, 3);
      expect(replayed.map((e) => e.id)).toEqual(missed);
      expect(replayed.every((e) => e.event === 'revocation')).toBe(true);
      expect(replayed.map((e) => (JSON.parse(e.data) as WireEvent).cursor)).toEqual(missed);

      const live = await auth.login(email);
      await auth.logout(live.access_token);
      const [next] = await readEvents(res, 1);
      expect(JSON.parse((next as SseEvent).data)).toMatchObject({ sid: live.sid, cursor: (await cursors(auth)).at(-1) });
    } finally {
      abort.abort();
    }
  });

  it('with no cursor, "0" as Last-Event-ID or since=0, the stream replays every retained event first', async () => {
    const email = await auth.register();
    for (let i = 0; i < 2; i++) await auth.logout((await auth.login(email)).access_token);
    const all = await cursors(auth);
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const init of [{}, { headers: { 'last-event-id': '0' } }, { query: '?since=0' }] as {
      headers?: Record<string, string>;
      query?: string;
    }[]) {
      const abort = new AbortController();
      try {
        const res = await fetch(`${auth.issuer}/v1/revocations/stream${init.query ?? ''}`, {
          headers: init.headers ?? {},
          signal: abort.signal,
        });
        expect(res.status).toBe(200);
        expect((await readEvents(res, all.length)).map((e) => e.id)).toEqual(all);
      } finally {
        abort.abort();
      }
    }
  });

  it('HEAD on the stream answers its headers and ends', async () => {
    const res = await fetch(`${auth.issuer}/v1/revocations/stream`, { method: 'HEAD', signal: AbortSignal.timeout(PROPAGATION_MS) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await res.text()).toBe('');
  });

  it('a cursor the feed never handed out (a replaced database): refused, and the feed starts over from the oldest event', async () => {
    const email = await auth.register();
    await auth.logout((await auth.login(email)).access_token);
    const all = await cursors(auth);
    const ahead = String(BigInt(all.at(-1) as string) + 1000n);
    expect((await fetch(`${auth.issuer}/v1/revocations?since=${ahead}`)).status).toBe(400);
    expect((await fetch(`${auth.issuer}/v1/revocations/stream`, { headers: { 'last-event-id': ahead } })).status).toBe(400);

    const feed = new RevocationFeed({ issuer: auth.issuer, clock: auth.t.clock });
    // As if kept from an earlier database whose sequence had gone further.
    feed.apply({ cursor: ahead, sid: 'from-before', sub: null, not_before: 1, until: 9e9 });
    await feed.catchUp();
    expect(feed.status().cursor).toBe(all.at(-1));
    expect(feed.status().rules).toBeGreaterThanOrEqual(2);
  });

  it('refuses a Last-Event-ID that is not a cursor of this feed', async () => {
    const res = await fetch(`${auth.issuer}/v1/revocations/stream`, { headers: { 'last-event-id': 'not a cursor!' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });

  // Last: moves the shared clock past every token's lifetime.
  it('forgets revocation rules once every token they cover has expired', async () => {
    expect(verifier.feedStatus()?.rules).toBeGreaterThan(0);
    // Events last token lifetime (600 s) + leeway (30 s) + 1 s; rules are pruned at most 30 s apart.
    auth.t.clock.advance((600 + 30 + 2) * 1000 + 30_000);
    expect(verifier.feedStatus()?.rules).toBe(0);
  });
});

describe('a verifier whose feed connection is cut', () => {
  let auth: AuthServer;
  let gate: GatedFetch;
  let verifier: ResourceVerifier;

  beforeAll(async () => {
    auth = await startAuthServer();
    gate = gatedFetch();
    verifier = verifierFor(auth, { fetch: gate.fetch });
    await connected(verifier);
  });

  afterAll(async () => {
    verifier?.close();
    await auth?.close();
  });

  it('reconnects, catches up through GET /v1/revocations?since= and refuses a token revoked meanwhile', async () => {
    const email = await auth.register();
    const kept = await auth.login(email);
    const doomed = await auth.login(email);
    const earlier = await auth.login(email);
    await auth.logout(earlier.access_token);
    await refusedAsRevoked(verifier, earlier.access_token);
    const cursorBefore = verifier.feedStatus()?.cursor as string;
    expect(cursorBefore).toMatch(/^\d+$/);
    const reconnectsBefore = verifier.feedStatus()?.reconnects as number;

    // Cut the server side of the SSE socket, and keep the verifier from reconnecting for now.
    gate.offline = true;
    auth.t.app.server.closeAllConnections();
    await poll(() => verifier.feedStatus()?.connected === false, 'the feed to notice the cut');
    expect(verifier.feedStatus()?.downSince).toBe(auth.t.clock.now);
    expect(verifier.metrics()).toContain('tessera_verify_feed_connected{source="sse"} 0');

    await auth.logout(doomed.access_token);
    // Disconnected, the verifier cannot know yet (fail-open by default).
    expect((await verifier.verify(doomed.access_token)).sid).toBe(doomed.sid);

    const from = gate.calls.length;
    gate.offline = false;
    await refusedAsRevoked(verifier, doomed.access_token, 5_000);
    expect((await verifier.verify(kept.access_token)).sid).toBe(kept.sid);

    const status = verifier.feedStatus();
    expect(status?.connected).toBe(true);
    expect(status?.reconnects).toBeGreaterThan(reconnectsBefore);
    const calls = gate.calls.slice(from);
    expect(calls.some((c) => c.url.endsWith('/v1/revocations/stream') && c.headers['last-event-id'] === cursorBefore)).toBe(true);
    expect(calls.some((c) => c.url.includes(`/v1/revocations?since=${cursorBefore}&`))).toBe(true);
  });

  it('the catch-up alone repairs the gap, even when the stream does not replay', async () => {
    // A proxy that drops Last-Event-ID: only GET /v1/revocations?since= can bring the missed event.
    const stripping = gatedFetch();
    const inner = stripping.fetch;
    stripping.fetch = (input, init) => {
      const headers = { ...(init?.headers as Record<string, string>) };
      delete headers['last-event-id'];
      return inner(input, { ...init, headers });
    };
    const v = verifierFor(auth, { fetch: stripping.fetch });
    try {
      await connected(v);
      const email = await auth.register();
      const first = await auth.login(email);
      await auth.logout(first.access_token);
      await refusedAsRevoked(v, first.access_token);

      const doomed = await auth.login(email);
      stripping.offline = true;
      auth.t.app.server.closeAllConnections();
      await poll(() => v.feedStatus()?.connected === false, 'the feed to notice the cut');
      await auth.logout(doomed.access_token);
      const cursorBefore = v.feedStatus()?.cursor as string;
      const from = stripping.calls.length;
      stripping.offline = false;
      await refusedAsRevoked(v, doomed.access_token, 5_000);
      expect(stripping.calls.every((c) => c.headers['last-event-id'] === undefined)).toBe(true);
      expect(stripping.calls.slice(from).some((c) => c.url.includes(`/v1/revocations?since=${cursorBefore}&`))).toBe(true);
    } finally {
      v.close();
    }
  });
});

describe('when the auth server is gone', () => {
  let auth: AuthServer;
  let closed: ResourceVerifier;
  let open: ResourceVerifier;

  beforeAll(async () => {
    auth = await startAuthServer();
    closed = verifierFor(auth, { failMode: 'closed', maxOutageMs: 1000 });
    open = verifierFor(auth, { failMode: 'open', maxOutageMs: 1000 });
    await Promise.all([connected(closed), connected(open)]);
  });

  afterAll(async () => {
    closed?.close();
    open?.close();
    await auth?.close();
  });

  it('fail-closed refuses every token once the outage passes maxOutageMs (503); fail-open keeps verifying', async () => {
    const { access_token: token } = await auth.login(await auth.register());
    await closed.verify(token);
    await open.verify(token);

    await auth.close();
    await poll(() => closed.feedStatus()?.connected === false && open.feedStatus()?.connected === false, 'both feeds to go down');

    // Within the bound, both still verify.
    auth.t.clock.advance(1000);
    expect((await closed.verify(token)).sub).toBeDefined();
    expect(closed.feedStatus()?.failingClosed).toBe(false);

    auth.t.clock.advance(1);
    expect(await codeOf(() => closed.verify(token))).toBe(ErrorCodes.REVOCATION_UNAVAILABLE);
    expect(closed.feedStatus()).toMatchObject({ connected: false, failingClosed: true });
    expect(closed.metrics()).toMatch(/^tessera_verify_feed_down_seconds 1\.001$/m);
    const result = await verifyRequest(closed, { authorization: `Bearer ${token}` });
    expect(result).toMatchObject({ ok: false, refusal: { status: 503, body: { error: 'temporarily_unavailable' } } });
    expect(JSON.stringify(result)).not.toContain(token);

    expect((await open.verify(token)).sub).toBeDefined();
    expect(open.feedStatus()).toMatchObject({ connected: false, failingClosed: false });
  });
});

describe('RevocationFeed rules', () => {
  it('memory stays bounded by the revocations of one token lifetime, on the injected clock', () => {
    const clock = manualClock();
    const feed = new RevocationFeed({ issuer: 'http://auth.test', clock });
    let cursor = 0;
    let most = 0;
    // 40 minutes of 10 revocations every 10 s, each lasting 630 s.
    for (let step = 0; step < 240; step++) {
      const now = clock.now / 1000;
      for (let i = 0; i < 10; i++) {
        cursor++;
        feed.apply({ cursor: String(cursor), sid: `sid-${cursor}`, sub: null, not_before: now + 1, until: now + 631 });
      }
      most = Math.max(most, feed.status().rules);
      clock.advance(10_000);
    }
    expect(feed.status().events).toBe(2400);
    expect(feed.status().cursor).toBe('2400');
    // Alive: 631 s of events, plus up to one prune interval (30 s) not yet swept.
    expect(most).toBeLessThanOrEqual(10 * Math.ceil((631 + 30) / 10) + 10);
    expect(most).toBeLessThan(2400);
    clock.advance(700_000);
    expect(feed.status().rules).toBe(0);
  });

  it("keeps a rule past its until by the verifier's leeway, so a token it still accepts stays refused", async () => {
    const clock = manualClock();
    const feed = new RevocationFeed({ issuer: 'http://auth.test', clock, keepPastUntilS: 120 });
    const now = clock.now / 1000;
    feed.apply({ cursor: '1', sid: 'gone', sub: null, not_before: now + 1, until: now + 631 });
    const token = { iss: 'x', sub: 'u', aud: 'a', exp: now + 600, iat: now, sid: 'gone' };
    clock.advance((631 + 60) * 1000); // past until; the token is 91 s past exp, within 120 s of leeway
    expect(feed.status().rules).toBe(1);
    expect(feed.isRevoked(token)).toBe(true);
    clock.advance(61_000); // past until + 120 s: no token it covers can be accepted any more
    expect(feed.status().rules).toBe(0);
    expect(() => new RevocationFeed({ issuer: 'http://auth.test', keepPastUntilS: -1 })).toThrow(/keepPastUntilS/);

    // createVerifier passes its own leeway: with 120 s, a revoked token 91 s past its exp is refused as revoked.
    const { ISSUER, AUDIENCE, testKey } = await import('../test-support.js');
    const key = await testKey(clock);
    const at = clock.now / 1000;
    const events = [{ cursor: '1', sid: 'sess-1', sub: null, not_before: at + 1, until: at + 631 }];
    const feedServer = createServer((req, res) => {
      if (req.url?.startsWith('/v1/revocations/stream')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' }).write(': connected\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ events, cursor: '1' }));
    });
    await new Promise<void>((resolve) => feedServer.listen(0, '127.0.0.1', () => resolve()));
    const base = `http://127.0.0.1:${(feedServer.address() as AddressInfo).port}`;
    const revokedToken = key.issue({ sid: 'sess-1' });
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: [key.key],
      leeway: 120,
      clock,
      revocations: { fetch: (url, init) => fetch(String(url).replace(ISSUER, base), init) },
    });
    try {
      await verifier.ready();
      await poll(() => verifier.feedStatus()?.rules === 1, 'the catch-up');
      clock.advance((631 + 60) * 1000);
      verifier.feedStatus(); // a status read (a metrics scrape) sweeps expired rules
      expect(await codeOf(() => verifier.verify(revokedToken))).toBe(ErrorCodes.TOKEN_REVOKED);
    } finally {
      verifier.close();
      feedServer.closeAllConnections();
      feedServer.close();
    }
  });

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

  it('with cacheFile, a feed restarted while the auth server is unreachable still holds the rules it had', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-feed-'));
    try {
      const cacheFile = join(dir, 'nested', 'revocations.json');
      const clock = manualClock();
      const now = clock.now / 1000;
      const first = new RevocationFeed({ issuer: 'http://127.0.0.1:1', clock, cacheFile });
      first.apply({ cursor: '7', sid: 'gone', sub: null, not_before: now + 1, until: now + 631 });
      first.apply({ cursor: '8', sid: null, sub: 'banned-user', not_before: now + 1, until: now + 631 });
      first.apply({ cursor: '9', sid: 'short', sub: null, not_before: now + 1, until: now + 10 });
      first.close(); // writes what the once-a-second timer had not yet written

      clock.advance(60_000); // 'short' has expired meanwhile
      const restarted = new RevocationFeed({ issuer: 'http://127.0.0.1:1', clock, cacheFile, minRetryMs: 1_000, maxRetryMs: 1_000 });
      await restarted.start();
      try {
        expect(restarted.status()).toMatchObject({ connected: false, cursor: '9', rules: 2 });
        expect(restarted.isRevoked({ iss: 'x', sub: 'u', aud: 'a', exp: 9e9, iat: now, sid: 'gone' })).toBe(true);
        expect(restarted.isRevoked({ iss: 'x', sub: 'banned-user', aud: 'a', exp: 9e9, iat: now })).toBe(true);
        expect(restarted.isRevoked({ iss: 'x', sub: 'u', aud: 'a', exp: 9e9, iat: now, sid: 'other' })).toBe(false);
      } finally {
        restarted.close();
      }

      // A corrupt or foreign file is ignored, not trusted and not fatal.
      for (const junk of [
        '{"cursor": 5, "rules": [{"sid": 42, "notBefore": "x"}]',
        'null',
        '42',
        '{"cursor": 5, "rules": [{"sid": 42, "notBefore": "x"}]}',
      ]) {
        writeFileSync(cacheFile, junk);
        const third = new RevocationFeed({ issuer: 'http://127.0.0.1:1', clock, cacheFile, minRetryMs: 1_000, maxRetryMs: 1_000 });
        await third.start();
        expect(third.status()).toMatchObject({ cursor: null, rules: 0 });
        third.close();
      }
      expect(() => new RevocationFeed({ issuer: 'http://auth.test', cacheFile: '' })).toThrow(/cacheFile/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

  it('ignores malformed events and keeps the highest cursor', () => {
    const feed = new RevocationFeed({ issuer: 'http://auth.test', clock: manualClock() });
    feed.apply({ cursor: '5', sid: 's5', sub: null, not_before: 1, until: 9e9 });
    feed.apply({ cursor: '3', sid: 's3', sub: null, not_before: 1, until: 9e9 });
    for (const bad of [
      null,
      {},
      { cursor: 7 },
      { cursor: '8', not_before: '1', until: 2 },
      { cursor: '9', sid: { toString: 's3' }, not_before: 1, until: 9e9 },
      { cursor: '10', sid: null, sub: 42, not_before: 1, until: 9e9 },
      { cursor: '11', not_before: 1, until: 9e9 },
      { cursor: '12', sid: 's12', not_before: JSON.parse('1e400'), until: 9e9 },
      { cursor: '13', sid: 's13', not_before: 1, until: 9e9, at: 'now' },
      { cursor: 'x'.repeat(65), sid: 's14', not_before: 1, until: 9e9 },
    ])
      feed.apply(bad as unknown as WireEvent);
    expect(feed.status()).toMatchObject({ events: 2, cursor: '5', rules: 2 });
    expect(feed.isRevoked({ iss: 'x', sub: 'u', aud: 'a', exp: 9e9, iat: 0, sid: 's3' })).toBe(true);
    expect(feed.isRevoked({ iss: 'x', sub: 'u', aud: 'a', exp: 9e9, iat: 5, sid: 's3' })).toBe(false);
  });
});

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
