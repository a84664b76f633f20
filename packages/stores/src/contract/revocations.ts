import { expect, it } from 'vitest';
import type { RevocationEvent, Stores } from '../types.js';

const S0 = 1_700_000_000; // seconds, like the JWT claims these events are compared with

const event = (i: number, until = S0 + 600): Omit<RevocationEvent, 'cursor'> => ({
  sid: i % 2 === 0 ? `sid_${i}` : null,
  sub: i % 2 === 0 ? null : `usr_${i}`,
  notBefore: S0 + i,
  until,
  reason: i % 2 === 0 ? 'logout' : 'password_changed',
});

const withoutCursor = ({ cursor: _, ...rest }: RevocationEvent): Omit<RevocationEvent, 'cursor'> => rest;

/** RevocationStore: the feed. Cursors are opaque, so order is checked only through `since`. */
export function revocationContract(stores: () => Stores): void {
  const appendAll = async (n: number): Promise<RevocationEvent[]> => {
    const out: RevocationEvent[] = [];
    for (let i = 0; i < n; i++) out.push(await stores().revocations.append(event(i)));
    return out;
  };

  it('revocations: append returns the event with an opaque string cursor, distinct each time', async () => {
    const events = await appendAll(5);
    events.forEach((e, i) => {
      expect(typeof e.cursor).toBe('string');
      expect(withoutCursor(e)).toEqual(event(i));
    });
    expect(new Set(events.map((e) => e.cursor)).size).toBe(5);
  });

  it('revocations: appendAll stores the events in order with increasing cursors, between the events around it', async () => {
    const before = await stores().revocations.append(event(0));
    const batch = await stores().revocations.appendAll([event(1), event(2), event(3)]);
    const after = await stores().revocations.append(event(4));
    expect(batch.map(withoutCursor)).toEqual([event(1), event(2), event(3)]);
    expect(await stores().revocations.since(null, 100)).toEqual([before, ...batch, after]);
    expect(await stores().revocations.since(before.cursor, 100)).toEqual([...batch, after]);
    expect(await stores().revocations.appendAll([])).toEqual([]);
  });

  it('revocations: since(null) is every event oldest first; since(cursor) is exactly the later ones', async () => {
    const events = await appendAll(6);
    expect(await stores().revocations.since(null, 100)).toEqual(events);
    // Cursors increase in append order: each one splits the feed at its event.
    for (const [i, e] of events.entries()) expect(await stores().revocations.since(e.cursor, 100)).toEqual(events.slice(i + 1));
  });

  it('revocations: "0" means from the oldest retained event', async () => {
    const events = await appendAll(2);
    expect(await stores().revocations.since('0', 100)).toEqual(events);
  });

  it('revocations: limit pages through the feed', async () => {
    const events = await appendAll(5);
    expect(await stores().revocations.since(null, 2)).toEqual(events.slice(0, 2));
    const seen: RevocationEvent[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page: RevocationEvent[] = await stores().revocations.since(cursor, 2);
      if (page.length === 0) break;
      seen.push(...page);
      cursor = page.at(-1)!.cursor;
    }
    expect(seen).toEqual(events);
  });

  it('revocations: empty feed, and nothing after the newest cursor', async () => {
    expect(await stores().revocations.since(null, 10)).toEqual([]);
    const [e] = await appendAll(1);
    expect(await stores().revocations.since(e!.cursor, 10)).toEqual([]);
  });

  it('revocations: concurrent appends all get distinct cursors and all appear once', async () => {
    const appended = await Promise.all(Array.from({ length: 20 }, (_, i) => stores().revocations.append(event(i))));
    expect(new Set(appended.map((e) => e.cursor)).size).toBe(20);
    const feed = await stores().revocations.since(null, 100);
    expect([...feed].sort((a, b) => a.notBefore - b.notBefore)).toEqual([...appended].sort((a, b) => a.notBefore - b.notBefore));
  });

  it('revocations: deleteExpired forgets events whose until has passed', async () => {
    const keep = await stores().revocations.append(event(0, S0 + 100));
    await stores().revocations.append(event(1, S0 + 99));
    const alsoKeep = await stores().revocations.append(event(2, S0 + 500));
    expect(await stores().revocations.deleteExpired(S0 + 100)).toBe(1);
    expect(await stores().revocations.since(null, 10)).toEqual([keep, alsoKeep]);
  });

  // A reused cursor would make a verifier that already holds it skip the new event.
  it('revocations: cursors are not reused after the newest events are deleted', async () => {
    const old = await appendAll(3);
    expect(await stores().revocations.deleteExpired(S0 + 10_000)).toBe(3);
    const fresh = await stores().revocations.append(event(9));
    expect(old.map((e) => e.cursor)).not.toContain(fresh.cursor);
    expect(await stores().revocations.since(old.at(-1)!.cursor, 10)).toEqual([fresh]);
  });

  // A verifier holding a cursor from elsewhere (another database, a reset feed) must start over, not wait to catch up.
  it('revocations: a cursor ahead of every cursor handed out is refused; the newest one, even deleted, is not', async () => {
    const events = await appendAll(2);
    const newest = events.at(-1)!.cursor;
    const ahead = String(Number(newest) + 1);
    await expect(stores().revocations.since(ahead, 10)).rejects.toMatchObject({ code: 'invalid_cursor' });
    await expect(stores().revocations.since('9007199254740991', 10)).rejects.toMatchObject({ code: 'invalid_cursor' });
    await stores().revocations.deleteExpired(S0 + 10_000);
    expect(await stores().revocations.since(newest, 10)).toEqual([]);
    expect(await stores().revocations.since('0', 10)).toEqual([]);
  });

  it('revocations: a malformed cursor or a non-positive limit is refused', async () => {
    await appendAll(1);
    await expect(stores().revocations.since('not a cursor', 10)).rejects.toMatchObject({ code: 'invalid_cursor' });
    await expect(stores().revocations.since(null, 0)).rejects.toThrow(RangeError);
  });
}
