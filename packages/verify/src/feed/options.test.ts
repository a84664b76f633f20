import { Buffer } from 'node:buffer';
import { ErrorCodes, OptionError } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { JWKS_TIMING_BOUNDS, RemoteJwks } from '../jwks/remote.js';
import { type RevocationFeedOptions, resolveFeedOptions, TIMING_BOUNDS } from './options.js';

const ISSUER = 'http://auth.test';
const SECRET = 'feed-reader-secret-0123456789';

/** The OptionError `fn` throws; fails when it throws nothing or something else. */
function optionError(fn: () => unknown): OptionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OptionError);
    expect((err as OptionError).code).toBe(ErrorCodes.INVALID_OPTION);
    return err as OptionError;
  }
  throw new Error('expected an OptionError');
}

const feed = (options: Partial<RevocationFeedOptions>) => resolveFeedOptions({ issuer: ISSUER, ...options });

// Hardening: `minRetryMs: 0` reconnected in a tight loop, and other timing options had no floor.
describe('revocation feed options: every timing option has a floor, refused at construction naming it', () => {
  for (const [name, [least, most]] of Object.entries(TIMING_BOUNDS)) {
    it(`${name}: below ${least}, above ${most}, NaN or not a number is refused; the bounds themselves are taken`, () => {
      for (const bad of [0, -1, least - 1, most + 1, Number.NaN, Number.POSITIVE_INFINITY, '500']) {
        expect(optionError(() => feed({ [name]: bad })).message).toContain(`"revocations.${name}"`);
      }
      const pair = name === 'minRetryMs' ? { maxRetryMs: most } : name === 'maxRetryMs' ? { minRetryMs: least } : {};
      expect(() => feed({ [name]: least, ...pair })).not.toThrow();
      expect(() => feed({ [name]: most, ...pair })).not.toThrow();
    });
  }

  it('maxRetryMs below minRetryMs is refused', () => {
    expect(optionError(() => feed({ minRetryMs: 1_000, maxRetryMs: 500 })).message).toContain('maxRetryMs');
  });
});

describe('remote JWKS options: every timing option has a floor, refused at construction naming it', () => {
  for (const [name, [least, most]] of Object.entries(JWKS_TIMING_BOUNDS)) {
    it(`${name}: below ${least}, above ${most} or NaN is refused`, () => {
      for (const bad of [0, -1, least - 1, most + 1, Number.NaN]) {
        expect(optionError(() => new RemoteJwks({ url: `${ISSUER}/jwks`, [name]: bad })).message).toContain(`"jwks.${name}"`);
      }
      const pair = name === 'maxCacheMs' ? { minCacheMs: least } : {};
      expect(() => new RemoteJwks({ url: `${ISSUER}/jwks`, [name]: least, ...pair })).not.toThrow();
    });
  }

  it('maxCacheMs below minCacheMs is refused', () => {
    expect(optionError(() => new RemoteJwks({ url: `${ISSUER}/jwks`, minCacheMs: 60_000, maxCacheMs: 30_000 })).message).toContain(
      'maxCacheMs',
    );
  });
});

describe('revocation feed credentials', () => {
  it('are sent as HTTP Basic, each part form-urlencoded', () => {
    const { authorization } = feed({ credentials: { id: 'orders', secret: 'a:secret with spaces' } });
    const decoded = Buffer.from(String(authorization).replace(/^Basic /, ''), 'base64').toString('utf8');
    expect(decoded).toBe('orders:a%3Asecret%20with%20spaces');
    expect(feed({}).authorization).toBeNull();
  });

  it('are checked at construction, and no message ever carries the secret', () => {
    const secret = 'short-secret';
    for (const credentials of [
      null,
      'orders:secret',
      { id: '', secret: SECRET },
      { id: 'has:colon', secret: SECRET },
      { id: 'has space', secret: SECRET },
      { id: 'orders' },
      { id: 'orders', secret },
      { id: 'orders', secret: `${SECRET}\n` },
      { secret: SECRET },
    ]) {
      const err = optionError(() => feed({ credentials: credentials as RevocationFeedOptions['credentials'] }));
      expect(err.message).toMatch(/"revocations\.credentials/);
      expect(err.message).not.toContain(secret);
      expect(err.message).not.toContain(SECRET);
    }
  });
});
