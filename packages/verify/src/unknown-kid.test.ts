import type * as Core from '@tessera/core';
import { ErrorCodes } from '@tessera/core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { verifyRequestNow } from './request.js';
import { AUDIENCE, codeOf, ISSUER, manualClock, testKey } from './test-support.js';
import { createVerifier } from './verifier.js';

// Counts every token the core verifier is asked to check, whoever asks: the count is the cost
// of a request, and an unknown kid must not pay for a verification that cannot succeed.
const coreVerifications = vi.hoisted(() => ({ count: 0 }));
vi.mock('@tessera/core', async (importOriginal) => {
  const core = await importOriginal<typeof Core>();
  return {
    ...core,
    createVerifier(options: Core.VerifierOptions): Core.Verifier {
      const inner = core.createVerifier(options);
      const verify = inner.verify;
      inner.verify = (token) => {
        coreVerifications.count++;
        return verify(token);
      };
      return inner;
    },
  };
});

async function rotatingFixture() {
  const clock = manualClock();
  const key = await testKey(clock);
  const rotated = await testKey(clock);
  const published: unknown[] = [key.jwk];
  const fetches = { count: 0 };
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: `${ISSUER}/.well-known/jwks.json`,
    jwks: {
      fetch: async () => {
        fetches.count++;
        return Response.json({ keys: published }, { headers: { 'cache-control': 'public, max-age=300' } });
      },
    },
    clock,
  });
  await verifier.ready();
  clock.advance(31_000); // past the unknown-kid cooldown that the first load started
  return { clock, key, rotated, published, fetches, verifier };
}

beforeEach(() => {
  coreVerifications.count = 0;
});

describe('an unknown kid: one refetch, two verifications in all', () => {
  it('a key published after start: verified once before the refetch and once after, never three times', async () => {
    const f = await rotatingFixture();
    f.published.push(f.rotated.jwk);
    const answer = f.verifier.verifyNow(f.rotated.issue({ sub: 'rotated' }));
    expect(answer).toBeInstanceOf(Promise);
    expect((await answer).sub).toBe('rotated');
    expect(f.fetches.count).toBe(2);
    expect(coreVerifications.count).toBe(2);
  });

  it('the same through verifyRequestNow, as every adapter calls it', async () => {
    const f = await rotatingFixture();
    f.published.push(f.rotated.jwk);
    const token = f.rotated.issue({ sub: 'rotated' });
    const answer = verifyRequestNow(f.verifier, { authorization: `Bearer ${token}` });
    expect(answer).toBeInstanceOf(Promise);
    expect(await answer).toMatchObject({ ok: true, claims: { sub: 'rotated' } });
    expect(coreVerifications.count).toBe(2);
  });

  it('a kid the issuer never published: refused after the refetch, still with two verifications', async () => {
    const f = await rotatingFixture();
    const answer = verifyRequestNow(f.verifier, { authorization: `Bearer ${f.rotated.issue()}` });
    expect(await answer).toMatchObject({ ok: false, refusal: { status: 401, body: { error: 'invalid_token' } } });
    expect(f.fetches.count).toBe(2);
    expect(coreVerifications.count).toBe(2);
  });

  it('within the refetch cooldown: refused after a single verification, without a fetch', async () => {
    const f = await rotatingFixture();
    await codeOf(() => f.verifier.verify(f.rotated.issue()));
    coreVerifications.count = 0;
    expect(await codeOf(() => f.verifier.verifyNow(f.rotated.issue()))).toBe(ErrorCodes.TOKEN_KEY);
    expect(f.fetches.count).toBe(2);
    expect(coreVerifications.count).toBe(1);
  });

  it('verify() costs the same: it is verifyNow behind a promise', async () => {
    const f = await rotatingFixture();
    f.published.push(f.rotated.jwk);
    expect((await f.verifier.verify(f.rotated.issue({ sub: 'rotated' }))).sub).toBe('rotated');
    expect(coreVerifications.count).toBe(2);
  });
});

describe('a known kid answers at once', () => {
  it('a loaded key and a cache hit return the claims synchronously, with one verification each', async () => {
    const f = await rotatingFixture();
    const token = f.key.issue({ sub: 'known' });
    for (let i = 0; i < 3; i++) {
      const claims = f.verifier.verifyNow(token);
      expect(claims).not.toBeInstanceOf(Promise);
      expect((claims as Core.AccessTokenClaims).sub).toBe('known');
    }
    expect(coreVerifications.count).toBe(3);
    expect(f.fetches.count).toBe(1);
  });

  it('a refusal with a loaded key is thrown at once, not a rejected promise', async () => {
    const f = await rotatingFixture();
    const forged = `${f.key.issue().slice(0, -4)}AAAA`;
    expect(() => f.verifier.verifyNow(forged)).toThrow(expect.objectContaining({ code: ErrorCodes.TOKEN_SIGNATURE }));
    const answer = verifyRequestNow(f.verifier, { authorization: `Bearer ${forged}` });
    expect(answer).not.toBeInstanceOf(Promise);
    expect(answer).toMatchObject({ ok: false, refusal: { status: 401 } });
  });
});
