import { expect, it } from 'vitest';
import type { Stores } from '../types.js';
import { HOUR, MINUTE, makeSession, makeUser, seedSession, T0 } from './fixtures.js';

const sorted = (ids: string[]): string[] => [...ids].sort();

/** SessionStore: round trip, sliding expiry, listing, revocation (single, per user), purge. */
export function sessionContract(stores: () => Stores): void {
  it('sessions: create and get every field back; unknown id is null', async () => {
    const user = makeUser();
    await stores().users.create(user);
    const cookie = makeSession(user.id, {
      kind: 'cookie',
      secretHash: 'cd'.repeat(32),
      csrfToken: 'csrf-token',
      userAgent: 'Mozilla/5.0',
      ip: '203.0.113.7',
    });
    const token = makeSession(user.id);
    await stores().sessions.create(cookie);
    await stores().sessions.create(token);
    expect(await stores().sessions.get(cookie.id)).toEqual(cookie);
    expect(await stores().sessions.get(token.id)).toEqual(token);
    expect(await stores().sessions.get('sid_nobody')).toBeNull();
  });

  it('sessions: getWithUser returns the session and its user profile in one read, never the password hash', async () => {
    const user = { ...makeUser(), name: 'Ada', roles: ['admin'] };
    await stores().users.create(user);
    const session = makeSession(user.id, { kind: 'cookie', secretHash: 'ef'.repeat(32), csrfToken: 'csrf' });
    await stores().sessions.create(session);
    const found = await stores().sessions.getWithUser(session.id);
    expect(found).toEqual({ session, user: { id: user.id, email: user.email, name: 'Ada', roles: ['admin'], disabledAt: null } });
    expect(JSON.stringify(found)).not.toContain(user.passwordHash);
    await stores().sessions.revoke(session.id, T0 + 1);
    expect((await stores().sessions.getWithUser(session.id))?.session.revokedAt).toBe(T0 + 1);
    expect(await stores().sessions.getWithUser('sid_nobody')).toBeNull();
    // The disabled mark, through the store's own users (a composed store keeps profiles in step).
    expect(await stores().users.setDisabled(user.id, T0 + 2, T0 + 2)).toBe(true);
    expect((await stores().sessions.getWithUser(session.id))?.user.disabledAt).toBe(T0 + 2);
  });

  it('sessions: touch slides the idle expiry', async () => {
    const s = await seedSession(stores());
    await stores().sessions.touch(s.id, T0 + MINUTE, T0 + MINUTE + HOUR);
    expect(await stores().sessions.get(s.id)).toEqual({ ...s, lastSeenAt: T0 + MINUTE, idleExpiresAt: T0 + MINUTE + HOUR });
  });

  it('sessions: touch has no effect on a revoked session, nor on an unknown one', async () => {
    const s = await seedSession(stores());
    expect(await stores().sessions.revoke(s.id, T0 + 1)).toBe(true);
    await stores().sessions.touch(s.id, T0 + MINUTE, T0 + MINUTE + HOUR);
    expect(await stores().sessions.get(s.id)).toEqual({ ...s, revokedAt: T0 + 1 });
    await expect(stores().sessions.touch('sid_nobody', T0, T0 + HOUR)).resolves.toBeUndefined();
  });

  it('sessions: listActive is newest first and leaves out revoked, idle-expired and absolute-expired ones', async () => {
    const now = T0 + 2 * HOUR;
    const older = await seedSession(stores(), { createdAt: T0, idleExpiresAt: now + HOUR });
    const userId = older.userId;
    const newer = await seedSession(stores(), { userId, createdAt: T0 + HOUR, idleExpiresAt: now + HOUR });
    await seedSession(stores(), { userId, createdAt: T0 + 3, idleExpiresAt: now + HOUR, revokedAt: now - 1 });
    // An expiry instant is already expired.
    await seedSession(stores(), { userId, createdAt: T0 + 4, idleExpiresAt: now });
    await seedSession(stores(), { userId, createdAt: T0 + 5, idleExpiresAt: now + HOUR, absoluteExpiresAt: now });
    await seedSession(stores(), { createdAt: T0 + 6, idleExpiresAt: now + HOUR }); // another user's
    const active = await stores().sessions.listActive(userId, now);
    expect(active).toEqual([newer, older]);
    expect(await stores().sessions.listActive('usr_nobody', now)).toEqual([]);
  });

  it('sessions: listActive pages newest first through a cursor, skipping revoked sessions; a foreign cursor gives an empty page', async () => {
    const user = makeUser();
    const other = makeUser();
    await stores().users.create(user);
    await stores().users.create(other);
    const sessions = Array.from({ length: 5 }, (_, i) => makeSession(user.id, { createdAt: T0 + i * MINUTE }));
    for (const s of sessions) await stores().sessions.create(s);
    // Same createdAt as the newest: the id breaks the tie, on every backend alike.
    const twin = makeSession(user.id, { createdAt: T0 + 4 * MINUTE });
    await stores().sessions.create(twin);
    const foreign = makeSession(other.id);
    await stores().sessions.create(foreign);
    const all = await stores().sessions.listActive(user.id, T0);
    expect(all).toHaveLength(6);
    const first = await stores().sessions.listActive(user.id, T0, { limit: 4 });
    expect(first).toEqual(all.slice(0, 4));
    await stores().sessions.revoke(all[4]!.id, T0);
    const second = await stores().sessions.listActive(user.id, T0, { limit: 4, after: first[3]!.id });
    expect(second).toEqual([all[5]]);
    expect(await stores().sessions.listActive(user.id, T0, { limit: 4, after: foreign.id })).toEqual([]);
    expect(await stores().sessions.listActive(user.id, T0, { limit: 4, after: 'sid_nobody' })).toEqual([]);
    await expect(stores().sessions.listActive(user.id, T0, { limit: 0 })).rejects.toThrow(RangeError);
  });

  it('sessions: revoke is true once, then false; unknown id is false', async () => {
    const s = await seedSession(stores());
    expect(await stores().sessions.revoke(s.id, T0 + 10)).toBe(true);
    expect(await stores().sessions.revoke(s.id, T0 + 20)).toBe(false);
    expect((await stores().sessions.get(s.id))?.revokedAt).toBe(T0 + 10);
    expect(await stores().sessions.revoke('sid_nobody', T0)).toBe(false);
  });

  it('sessions: of 10 concurrent revokes exactly one returns true', async () => {
    const s = await seedSession(stores());
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => stores().sessions.revoke(s.id, T0 + i)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('sessions: revokeUser revokes every unrevoked session but the excepted one, returning their ids', async () => {
    const keep = await seedSession(stores());
    const userId = keep.userId;
    const a = await seedSession(stores(), { userId });
    const b = await seedSession(stores(), { userId, kind: 'cookie', secretHash: 'ee'.repeat(32) });
    const gone = await seedSession(stores(), { userId, revokedAt: T0 + 1 });
    const stranger = await seedSession(stores());
    const now = T0 + MINUTE;
    expect(sorted(await stores().sessions.revokeUser(userId, now, keep.id))).toEqual(sorted([a.id, b.id]));
    expect((await stores().sessions.get(a.id))?.revokedAt).toBe(now);
    expect((await stores().sessions.get(b.id))?.revokedAt).toBe(now);
    expect((await stores().sessions.get(gone.id))?.revokedAt).toBe(T0 + 1);
    expect((await stores().sessions.get(keep.id))?.revokedAt).toBeNull();
    expect((await stores().sessions.get(stranger.id))?.revokedAt).toBeNull();
    expect(await stores().sessions.revokeUser(userId, now + 1, keep.id)).toEqual([]);
  });

  it('sessions: revokeMany revokes the listed live sessions only, and of two racing calls each session goes to one', async () => {
    const user = makeUser();
    await stores().users.create(user);
    const [a, b, c, d] = await Promise.all([0, 1, 2, 3].map(() => seedSession(stores(), { userId: user.id })));
    await stores().sessions.revoke(a!.id, T0);
    expect(sorted(await stores().sessions.revokeMany([a!.id, b!.id, 'sid_nobody'], T0 + 1))).toEqual([b!.id]);
    expect((await stores().sessions.get(c!.id))?.revokedAt).toBeNull();
    const [first, second] = await Promise.all([
      stores().sessions.revokeMany([c!.id, d!.id], T0 + 2),
      stores().sessions.revokeMany([d!.id, c!.id], T0 + 2),
    ]);
    expect(sorted([...first!, ...second!])).toEqual(sorted([c!.id, d!.id]));
    expect(await stores().sessions.revokeMany([], T0 + 3)).toEqual([]);
  });

  it('sessions: revokeUser without an exception revokes them all', async () => {
    const a = await seedSession(stores());
    const b = await seedSession(stores(), { userId: a.userId });
    expect(sorted(await stores().sessions.revokeUser(a.userId, T0 + 1))).toEqual(sorted([a.id, b.id]));
    expect(await stores().sessions.listActive(a.userId, T0 + 2)).toEqual([]);
    expect(await stores().sessions.revokeUser('usr_nobody', T0)).toEqual([]);
  });

  it('sessions: deleteExpired removes sessions expired or revoked before the cutoff, and counts them', async () => {
    const before = T0 + 10 * HOUR;
    const live = await seedSession(stores(), { idleExpiresAt: before + 1, absoluteExpiresAt: before + HOUR });
    const userId = live.userId;
    const atCutoff = await seedSession(stores(), { userId, idleExpiresAt: before, absoluteExpiresAt: before + HOUR });
    const revokedLate = await seedSession(stores(), {
      userId,
      idleExpiresAt: before + 1,
      absoluteExpiresAt: before + HOUR,
      revokedAt: before,
    });
    const idle = await seedSession(stores(), { userId, idleExpiresAt: before - 1, absoluteExpiresAt: before + HOUR });
    const absolute = await seedSession(stores(), { userId, idleExpiresAt: before + 1, absoluteExpiresAt: before - 1 });
    const revoked = await seedSession(stores(), {
      userId,
      idleExpiresAt: before + 1,
      absoluteExpiresAt: before + HOUR,
      revokedAt: before - 1,
    });
    expect(await stores().sessions.deleteExpired(before)).toBe(3);
    for (const s of [idle, absolute, revoked]) expect(await stores().sessions.get(s.id)).toBeNull();
    for (const s of [live, atCutoff, revokedLate]) expect(await stores().sessions.get(s.id)).toEqual(s);
    expect(await stores().sessions.deleteExpired(before)).toBe(0);
  });
}
