import { expect, it } from 'vitest';
import type { RotateResult, Stores } from '../types.js';
import { HOUR, makeRefresh, seedSession, T0 } from './fixtures.js';

/** RefreshStore: round trip, atomic rotation (the reuse-detection primitive), purges. */
export function refreshContract(stores: () => Stores): void {
  it('refresh: create and get every field back; unknown id is null', async () => {
    const token = makeRefresh(await seedSession(stores()));
    await stores().refreshTokens.create(token);
    expect(await stores().refreshTokens.get(token.id)).toEqual(token);
    expect(await stores().refreshTokens.get('rt_nobody')).toBeNull();
  });

  it('refresh: rotate marks the token used and inserts its successor', async () => {
    const session = await seedSession(stores());
    const old = makeRefresh(session);
    const next = makeRefresh(session, { createdAt: T0 + 1000 });
    await stores().refreshTokens.create(old);
    expect(await stores().refreshTokens.rotate(old.id, next, T0 + 1000)).toEqual({ status: 'rotated' });
    expect(await stores().refreshTokens.get(old.id)).toEqual({ ...old, rotatedAt: T0 + 1000, successorId: next.id });
    expect(await stores().refreshTokens.get(next.id)).toEqual(next);
  });

  it('refresh: rotating an unknown token is not-found and inserts nothing', async () => {
    const next = makeRefresh(await seedSession(stores()));
    expect(await stores().refreshTokens.rotate('rt_nobody', next, T0)).toEqual({ status: 'not-found' });
    expect(await stores().refreshTokens.get(next.id)).toBeNull();
  });

  it('refresh: a rotated token cannot be rotated again (reuse): already-rotated names the first successor', async () => {
    const session = await seedSession(stores());
    const old = makeRefresh(session);
    const first = makeRefresh(session);
    const second = makeRefresh(session);
    await stores().refreshTokens.create(old);
    await stores().refreshTokens.rotate(old.id, first, T0 + 1);
    expect(await stores().refreshTokens.rotate(old.id, second, T0 + 2)).toEqual({
      status: 'already-rotated',
      rotatedAt: T0 + 1,
      successorId: first.id,
    });
    expect(await stores().refreshTokens.get(second.id)).toBeNull();
  });

  // Two tabs (or two auth nodes) refreshing at once must not both mint a live successor:
  // that would fork the family and defeat reuse detection (RFC 9700 §4.14.2).
  it('refresh: of 50 concurrent rotations of one token exactly one wins; the rest see its successor', async () => {
    const session = await seedSession(stores());
    const old = makeRefresh(session);
    await stores().refreshTokens.create(old);
    const candidates = Array.from({ length: 50 }, () => makeRefresh(session, { createdAt: T0 + 1 }));
    const results = await Promise.all(candidates.map((c, i) => stores().refreshTokens.rotate(old.id, c, T0 + 1 + i)));

    const winners = candidates.filter((_, i) => results[i]!.status === 'rotated');
    expect(winners).toHaveLength(1);
    const winner = winners[0]!;
    const losers = results.filter((r): r is Extract<RotateResult, { status: 'already-rotated' }> => r.status === 'already-rotated');
    expect(losers).toHaveLength(49);
    const stored = (await stores().refreshTokens.get(old.id))!;
    for (const r of losers) expect(r).toEqual({ status: 'already-rotated', rotatedAt: stored.rotatedAt, successorId: winner.id });
    expect(stored.successorId).toBe(winner.id);

    const existing = [];
    for (const c of candidates) if (await stores().refreshTokens.get(c.id)) existing.push(c.id);
    expect(existing).toEqual([winner.id]);

    // The family goes on from the winner, once.
    const third = makeRefresh(session);
    expect(await stores().refreshTokens.rotate(winner.id, third, T0 + 100)).toEqual({ status: 'rotated' });
    expect((await stores().refreshTokens.rotate(winner.id, makeRefresh(session), T0 + 101)).status).toBe('already-rotated');
    expect(await stores().refreshTokens.rotate(old.id, makeRefresh(session), T0 + 102)).toMatchObject({ successorId: winner.id });
  });

  it('refresh: a successor whose id is taken makes rotate fail and leaves the token live', async () => {
    const session = await seedSession(stores());
    const old = makeRefresh(session);
    const other = makeRefresh(session);
    await stores().refreshTokens.create(old);
    await stores().refreshTokens.create(other);
    await expect(stores().refreshTokens.rotate(old.id, makeRefresh(session, { id: other.id }), T0 + 1)).rejects.toThrow();
    expect(await stores().refreshTokens.get(old.id)).toEqual(old);
    expect(await stores().refreshTokens.get(other.id)).toEqual(other);
  });

  it('refresh: deleteFamily deletes every token of the session and counts them', async () => {
    const session = await seedSession(stores());
    const other = await seedSession(stores(), { userId: session.userId });
    const a = makeRefresh(session);
    const b = makeRefresh(session);
    const c = makeRefresh(other);
    await stores().refreshTokens.create(a);
    await stores().refreshTokens.rotate(a.id, b, T0 + 1);
    await stores().refreshTokens.create(c);
    expect(await stores().refreshTokens.deleteFamily(session.id)).toBe(2);
    expect(await stores().refreshTokens.get(a.id)).toBeNull();
    expect(await stores().refreshTokens.get(b.id)).toBeNull();
    expect(await stores().refreshTokens.get(c.id)).toEqual(c);
    expect(await stores().refreshTokens.deleteFamily(session.id)).toBe(0);
  });

  it('refresh: deleteExpired deletes tokens that expired before the cutoff', async () => {
    const session = await seedSession(stores());
    const before = T0 + HOUR;
    const expired = makeRefresh(session, { expiresAt: before - 1 });
    const atCutoff = makeRefresh(session, { expiresAt: before });
    await stores().refreshTokens.create(expired);
    await stores().refreshTokens.create(atCutoff);
    expect(await stores().refreshTokens.deleteExpired(before)).toBe(1);
    expect(await stores().refreshTokens.get(expired.id)).toBeNull();
    expect(await stores().refreshTokens.get(atCutoff.id)).toEqual(atCutoff);
  });
}
