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
import { type AuthServer, FEED_CREDENTIALS, feedHeaders, startAuthServer } from '../test-auth-server.js';
import { codeOf, type GatedFetch, gatedFetch, poll } from '../test-support.js';

/** Revocations reach a connected verifier in well under this (the design goal is 100 ms p99). */
const PROPAGATION_MS = 2_000;

function verifierFor(auth: AuthServer, revocations: ResourceVerifierOptions['revocations'] = {}): ResourceVerifier {
  const options =
    typeof revocations === 'object' ? { minRetryMs: 10, maxRetryMs: 50, credentials: FEED_CREDENTIALS, ...revocations } : revocations;
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
  const res = await fetch(`${auth.issuer}/v1/revocations?since=0`, { headers: feedHeaders() });
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
      const res = await fetch(`${auth.issuer}/v1/revocations/stream`, {
        headers: { ...feedHeaders(), 'last-event-id': before },
        signal: abort.signal,
      });
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
          headers: { ...feedHeaders(), ...init.headers },
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
    const res = await fetch(`${auth.issuer}/v1/revocations/stream`, {
      method: 'HEAD',
      headers: feedHeaders(),
      signal: AbortSignal.timeout(PROPAGATION_MS),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await res.text()).toBe('');
  });

  it('a cursor the feed never handed out (a replaced database): refused, and the feed starts over from the oldest event', async () => {
    const email = await auth.register();
    await auth.logout((await auth.login(email)).access_token);
    const all = await cursors(auth);
    const ahead = String(BigInt(all.at(-1) as string) + 1000n);
    expect((await fetch(`${auth.issuer}/v1/revocations?since=${ahead}`, { headers: feedHeaders() })).status).toBe(400);
    expect((await fetch(`${auth.issuer}/v1/revocations/stream`, { headers: { ...feedHeaders(), 'last-event-id': ahead } })).status).toBe(
      400,
    );

    const feed = new RevocationFeed({ issuer: auth.issuer, clock: auth.t.clock, credentials: FEED_CREDENTIALS });
    // As if kept from an earlier database whose sequence had gone further.
    feed.apply({ cursor: ahead, sid: 'from-before', sub: null, not_before: 1, until: 9e9 });
    await feed.catchUp();
    expect(feed.status().cursor).toBe(all.at(-1));
    expect(feed.status().rules).toBeGreaterThanOrEqual(2);
  });

  it('refuses a Last-Event-ID that is not a cursor of this feed', async () => {
    const res = await fetch(`${auth.issuer}/v1/revocations/stream`, { headers: { ...feedHeaders(), 'last-event-id': 'not a cursor!' } });
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
