import { ErrorCodes } from '@tessera/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type ResourceVerifier } from '../index.js';
import { type AuthServer, FEED_CREDENTIALS, startAuthServer } from '../test-auth-server.js';
import { codeOf, manualClock, poll, REDIS_URL, redisAvailable, uniqueChannel } from '../test-support.js';

// Skips outside CI when Redis is down (saying why); throws, failing this file, in CI.
const redisUp = await redisAvailable();

describe.skipIf(!redisUp)('revocation feed over Redis pub/sub', () => {
  const channel = uniqueChannel();
  let auth: AuthServer;
  let verifier: ResourceVerifier;
  let publisher: Redis;

  beforeAll(async () => {
    auth = await startAuthServer({ TESSERA_REDIS_URL: REDIS_URL, TESSERA_REDIS_CHANNEL: channel });
    verifier = createVerifier({
      issuer: auth.issuer,
      audience: auth.issuer,
      jwksUri: `${auth.issuer}/.well-known/jwks.json`,
      revocations: { source: 'redis', redis: REDIS_URL, channel, credentials: FEED_CREDENTIALS },
      clock: auth.t.clock,
    });
    await verifier.ready();
    await poll(() => verifier.feedStatus()?.connected, 'the Redis subscription');
    publisher = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    verifier?.close();
    await auth?.close();
    await publisher?.quit();
  });

  it('a logout on the auth server reaches the verifier through Redis', async () => {
    const email = await auth.register();
    const a = await auth.login(email);
    const b = await auth.login(email);
    await verifier.verify(a.access_token);

    await auth.logout(a.access_token);
    // Only Redis can bring it: the feed runs no SSE stream, and its HTTP catch-up only runs on (re)connect.
    await poll(async () => (await codeOf(() => verifier.verify(a.access_token))) === ErrorCodes.TOKEN_REVOKED, 'the revocation via Redis');
    expect((await verifier.verify(b.access_token)).sid).toBe(b.sid);

    const status = verifier.feedStatus();
    expect(status).toMatchObject({ source: 'redis', connected: true, lagMs: 0 });
    expect(status?.cursor).toMatch(/^\d+$/);
    expect(verifier.metrics()).toContain('tessera_verify_feed_connected{source="redis"} 1');
  });

  it('ignores malformed messages and other channels, and keeps working', async () => {
    const s = await auth.login(await auth.register());
    const before = verifier.feedStatus()?.events as number;
    await publisher.publish(channel, 'not json');
    await publisher.publish(channel, JSON.stringify({ cursor: 1 }));
    await publisher.publish(`${channel}:other`, JSON.stringify({ cursor: '999', sid: s.sid, sub: null, not_before: 9e9, until: 9e9 }));
    await auth.logout(s.access_token);
    await poll(async () => (await codeOf(() => verifier.verify(s.access_token))) === ErrorCodes.TOKEN_REVOKED, 'the revocation via Redis');
    expect(verifier.feedStatus()?.events).toBe(before + 1);
  });
});

// Runs with or without a Redis server: it needs Redis to be absent, which a closed port guarantees.
describe('revocation feed over Redis, with Redis down at start', () => {
  it('ready() still resolves within a bounded time; the feed reports down and fail-closed applies', async () => {
    const clock = manualClock();
    const verifier = createVerifier({
      issuer: 'http://127.0.0.1:9',
      audience: 'orders',
      keys: [],
      revocations: { source: 'redis', redis: 'redis://127.0.0.1:9', channel: uniqueChannel(), failMode: 'closed', maxOutageMs: 1000 },
      clock,
    });
    try {
      const started = performance.now();
      await verifier.ready();
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(verifier.feedStatus()).toMatchObject({ source: 'redis', connected: false, failingClosed: false });
      clock.advance(1001);
      expect(verifier.feedStatus()?.failingClosed).toBe(true);
      expect(await codeOf(() => verifier.verify('a.b.c'))).toBe(ErrorCodes.REVOCATION_UNAVAILABLE);
    } finally {
      verifier.close();
    }
  });
});
