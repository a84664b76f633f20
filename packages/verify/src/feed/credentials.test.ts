import { ErrorCodes } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type ResourceVerifier, type ResourceVerifierOptions } from '../index.js';
import { type AuthServer, FEED_CREDENTIALS, startAuthServer } from '../test-auth-server.js';
import { codeOf, poll } from '../test-support.js';

/** A fetch that records each request's URL, `Authorization` and answer status. */
function recordingFetch() {
  const calls: { url: string; authorization: string | undefined; status: number }[] = [];
  const fetchAndRecord: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const headers = (init?.headers ?? {}) as Record<string, string>;
    calls.push({ url: String(input), authorization: headers.authorization, status: res.status });
    return res;
  };
  return { calls, fetch: fetchAndRecord };
}

function verifierFor(auth: AuthServer, revocations: Exclude<ResourceVerifierOptions['revocations'], boolean | undefined>) {
  return createVerifier({
    issuer: auth.issuer,
    audience: auth.issuer,
    jwksUri: `${auth.issuer}/.well-known/jwks.json`,
    revocations: { minRetryMs: 10, maxRetryMs: 50, ...revocations },
    clock: auth.t.clock,
  });
}

// Hardening from outside probes: the feed answers only the resource servers the auth server knows.
describe('revocation feed credentials against the real auth server', () => {
  let auth: AuthServer;
  const verifiers: ResourceVerifier[] = [];
  beforeAll(async () => {
    auth = await startAuthServer();
  });
  afterAll(async () => {
    for (const v of verifiers) v.close();
    await auth?.close();
  });

  it('a verifier with credentials sends them on the stream and the catch-up, and receives events', async () => {
    const recorded = recordingFetch();
    const verifier = verifierFor(auth, { credentials: FEED_CREDENTIALS, fetch: recorded.fetch });
    verifiers.push(verifier);
    await verifier.ready();
    await poll(() => verifier.feedStatus()?.connected, 'the feed to connect');
    const email = await auth.register();
    const session = await auth.login(email);
    await auth.logout(session.access_token);
    await poll(
      async () => (await codeOf(() => verifier.verify(session.access_token))) === ErrorCodes.TOKEN_REVOKED,
      'the logout to arrive',
    );
    const feedCalls = recorded.calls.filter((c) => c.url.includes('/v1/revocations'));
    expect(feedCalls.some((c) => c.url.includes('/v1/revocations/stream'))).toBe(true);
    expect(feedCalls.some((c) => c.url.includes('/v1/revocations?since='))).toBe(true);
    expect(feedCalls.every((c) => c.authorization?.startsWith('Basic ') && c.status === 200)).toBe(true);
    // The secret appears nowhere the service shows.
    expect(JSON.stringify(verifier.feedStatus())).not.toContain(FEED_CREDENTIALS.secret);
    expect(verifier.metrics()).not.toContain(FEED_CREDENTIALS.secret);
  });

  it('a verifier without credentials (or with a wrong secret) gets 401 and reports the feed down', async () => {
    for (const credentials of [undefined, { id: FEED_CREDENTIALS.id, secret: 'not-the-right-secret-at-all' }]) {
      const recorded = recordingFetch();
      const verifier = verifierFor(auth, { fetch: recorded.fetch, ...(credentials ? { credentials } : {}) });
      verifiers.push(verifier);
      await verifier.ready();
      await poll(() => recorded.calls.filter((c) => c.url.includes('/v1/revocations/stream')).length >= 2, 'two stream attempts');
      expect(recorded.calls.filter((c) => c.url.includes('/v1/revocations')).every((c) => c.status === 401)).toBe(true);
      expect(verifier.feedStatus()).toMatchObject({ connected: false, events: 0 });
      expect(verifier.metrics()).toContain('tessera_verify_feed_connected{source="sse"} 0');
      verifier.close();
    }
  });
});
