import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCodes } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { createVerifier, RevocationFeed, type WireEvent } from '../index.js';
import { codeOf, manualClock, poll } from '../test-support.js';

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
