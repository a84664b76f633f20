import { expect, it } from 'vitest';
import type { Stores } from '../types.js';
import { makeRefresh, makeSession, makeUser, T0 } from './fixtures.js';

/** How a backend under test is put together, where that changes what the contract can ask. */
export interface StoreContractOptions {
  /**
   * Whether sessions live in the backend that holds users, so deleting a user deletes them too.
   * False when sessions are elsewhere (Redis): the caller revokes them and they expire there.
   * Default true.
   */
  sessionsWithUsers?: boolean;
}

/** UserStore administration: listing, roles, the disabled mark, deletion. */
export function userAdminContract(stores: () => Stores, options: StoreContractOptions = {}): void {
  const sessionsWithUsers = options.sessionsWithUsers ?? true;

  it('users: disabledAt is stored and read back', async () => {
    const disabled = makeUser({ disabledAt: T0 - 1 });
    await stores().users.create(disabled);
    expect(await stores().users.findById(disabled.id)).toEqual(disabled);
    expect(await stores().users.findByEmail(disabled.email)).toEqual(disabled);
  });

  it('users: list pages through every user in code-point order of email', async () => {
    // In code-point (UTF-8 byte) order, which is not JavaScript's UTF-16 order for the last two
    // and not a natural-language collation's order for the first two.
    const emails = [
      'a.b@example.test',
      'a@example.test',
      'ab@example.test',
      'z@example.test',
      'ü@example.test',
      '가@example.test',
      '\u{e000}@example.test',
      '\u{1f600}@example.test',
    ];
    const users = emails.map((email, i) => makeUser({ email, roles: i % 2 ? ['ops'] : [], disabledAt: i === 3 ? T0 : null }));
    for (const i of [5, 0, 7, 2, 4, 1, 6, 3]) await stores().users.create(users[i]!);
    expect(await stores().users.list({ limit: 1000 })).toEqual(users);
    const first = await stores().users.list({ limit: 3 });
    expect(first).toEqual(users.slice(0, 3));
    const second = await stores().users.list({ limit: 3, after: first[2]!.email });
    expect(second).toEqual(users.slice(3, 6));
    const third = await stores().users.list({ limit: 3, after: second[2]!.email });
    expect(third).toEqual(users.slice(6));
    expect(await stores().users.list({ limit: 3, after: third[1]!.email })).toEqual([]);
    // `after` need not be a stored email: the page starts at the next one.
    expect(await stores().users.list({ limit: 2, after: 'b' })).toEqual(users.slice(3, 5));
    expect(await stores().users.list({ limit: 1, after: '' })).toEqual(users.slice(0, 1));
  });

  it('users: list of an empty store is empty; a limit outside 1…1000 is a RangeError', async () => {
    expect(await stores().users.list({ limit: 10 })).toEqual([]);
    for (const limit of [0, -1, 1001, 1.5, Number.NaN]) await expect(stores().users.list({ limit })).rejects.toThrow(RangeError);
  });

  it('users: changeRoles sets, then grants, then revokes; the result is unique and sorted; updatedAt moves', async () => {
    const user = makeUser({ roles: ['ops'] });
    await stores().users.create(user);
    expect(await stores().users.changeRoles(user.id, { grant: ['admin', 'ops', 'admin'] }, T0 + 1)).toEqual(['admin', 'ops']);
    expect(await stores().users.changeRoles(user.id, { revoke: ['ops', 'never-held'] }, T0 + 2)).toEqual(['admin']);
    expect(await stores().users.changeRoles(user.id, { set: ['b', 'a', 'B', 'a'], grant: ['c', 'a'], revoke: ['a'] }, T0 + 3)).toEqual([
      'B',
      'b',
      'c',
    ]);
    expect(await stores().users.findById(user.id)).toEqual({ ...user, roles: ['B', 'b', 'c'], updatedAt: T0 + 3 });
    expect(await stores().users.changeRoles(user.id, { set: [] }, T0 + 4)).toEqual([]);
    expect(await stores().users.findByEmail(user.email)).toEqual({ ...user, roles: [], updatedAt: T0 + 4 });
  });

  it('users: changeRoles of an unknown user is null and creates nothing', async () => {
    expect(await stores().users.changeRoles('usr_nobody', { grant: ['admin'] }, T0)).toBeNull();
    expect(await stores().users.findById('usr_nobody')).toBeNull();
    expect(await stores().users.list({ limit: 10 })).toEqual([]);
  });

  // Lost update: two administrators granting at once must not overwrite each other's grant.
  it('users: of 20 concurrent grants of distinct roles, every one lands', async () => {
    const user = makeUser({ roles: ['base'] });
    await stores().users.create(user);
    const roles = Array.from({ length: 20 }, (_, i) => `role-${String(i).padStart(2, '0')}`);
    const results = await Promise.all(roles.map((role, i) => stores().users.changeRoles(user.id, { grant: [role] }, T0 + i)));
    for (const [i, after] of results.entries()) expect(after).toContain(roles[i]);
    expect((await stores().users.findById(user.id))?.roles).toEqual(['base', ...roles]);
  });

  it('users: a grant racing a revoke of another role: both land', async () => {
    const users = Array.from({ length: 5 }, () => makeUser({ roles: ['old', 'kept'] }));
    for (const user of users) await stores().users.create(user);
    await Promise.all(
      users.flatMap((user) => [
        stores().users.changeRoles(user.id, { revoke: ['old'] }, T0 + 1),
        stores().users.changeRoles(user.id, { grant: ['new'] }, T0 + 1),
      ]),
    );
    for (const user of users) expect((await stores().users.findById(user.id))?.roles).toEqual(['kept', 'new']);
  });

  it('users: setDisabled sets and clears the mark and moves updatedAt; unknown id is false', async () => {
    const user = makeUser({ roles: ['admin'] });
    await stores().users.create(user);
    expect(await stores().users.setDisabled(user.id, T0 + 10, T0 + 11)).toBe(true);
    expect(await stores().users.findById(user.id)).toEqual({ ...user, disabledAt: T0 + 10, updatedAt: T0 + 11 });
    expect(await stores().users.list({ limit: 1 })).toEqual([{ ...user, disabledAt: T0 + 10, updatedAt: T0 + 11 }]);
    expect(await stores().users.setDisabled(user.id, null, T0 + 20)).toBe(true);
    expect(await stores().users.findByEmail(user.email)).toEqual({ ...user, disabledAt: null, updatedAt: T0 + 20 });
    expect(await stores().users.setDisabled('usr_nobody', T0, T0)).toBe(false);
    expect(await stores().users.findById('usr_nobody')).toBeNull();
  });

  it(`users: delete removes the user${sessionsWithUsers ? ', their sessions' : ''} and their refresh tokens, and frees the email`, async () => {
    const user = makeUser({ roles: ['admin'] });
    const other = makeUser();
    for (const u of [user, other]) await stores().users.create(u);
    const cookie = makeSession(user.id, { kind: 'cookie', secretHash: 'cd'.repeat(32), csrfToken: 'csrf' });
    const family = makeSession(user.id);
    const kept = makeSession(other.id);
    for (const s of [cookie, family, kept]) await stores().sessions.create(s);
    const old = makeRefresh(family);
    const next = makeRefresh(family, { createdAt: T0 + 1 });
    const keptToken = makeRefresh(kept);
    await stores().refreshTokens.create(old);
    await stores().refreshTokens.rotate(old.id, next, T0 + 1);
    await stores().refreshTokens.create(keptToken);
    // The caller revokes the user's sessions first, so tokens and cookies already issued stop working.
    await stores().sessions.revokeUser(user.id, T0 + 2);

    expect(await stores().users.delete(user.id)).toBe(true);
    expect(await stores().users.findById(user.id)).toBeNull();
    expect(await stores().users.findByEmail(user.email)).toBeNull();
    expect(await stores().users.list({ limit: 10 })).toEqual([other]);
    for (const t of [old, next]) expect(await stores().refreshTokens.get(t.id)).toBeNull();
    for (const s of [cookie, family]) {
      expect(await stores().sessions.getWithUser(s.id)).toBeNull();
      if (sessionsWithUsers) expect(await stores().sessions.get(s.id)).toBeNull();
      else expect((await stores().sessions.get(s.id))?.revokedAt).toBe(T0 + 2);
    }
    expect(await stores().sessions.listActive(user.id, T0 + 3)).toEqual([]);
    // Nobody else's records go with it.
    expect(await stores().users.findById(other.id)).toEqual(other);
    expect(await stores().sessions.get(kept.id)).toEqual(kept);
    expect(await stores().refreshTokens.get(keptToken.id)).toEqual(keptToken);

    expect(await stores().users.delete(user.id)).toBe(false);
    expect(await stores().users.delete('usr_nobody')).toBe(false);
    const again = makeUser({ email: user.email });
    await stores().users.create(again);
    expect(await stores().users.findByEmail(user.email)).toEqual(again);
  });

  it('users: a deleted user is not changed by later role or disabled changes', async () => {
    const user = makeUser();
    await stores().users.create(user);
    await stores().users.delete(user.id);
    expect(await stores().users.changeRoles(user.id, { grant: ['admin'] }, T0 + 1)).toBeNull();
    expect(await stores().users.setDisabled(user.id, T0 + 1, T0 + 1)).toBe(false);
    expect(await stores().users.updatePassword(user.id, { from: user.passwordHash, to: '$argon2id$x' }, T0 + 1)).toBe(false);
    expect(await stores().users.findById(user.id)).toBeNull();
  });
}
