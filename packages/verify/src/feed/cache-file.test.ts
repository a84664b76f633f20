import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RevocationFeed } from '../index.js';
import { manualClock } from '../test-support.js';

describe('RevocationFeed cacheFile', () => {
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
});
