import { expect, it } from 'vitest';
import { EmailTakenError, type Stores } from '../types.js';
import { makeUser, T0 } from './fixtures.js';

/** UserStore: lookups, email uniqueness (also under concurrency), password change. */
export function userContract(stores: () => Stores): void {
  it('users: create, then find by id and by email', async () => {
    const user = makeUser({ name: 'Ada', roles: ['admin', 'ops'] });
    await stores().users.create(user);
    expect(await stores().users.findById(user.id)).toEqual(user);
    expect(await stores().users.findByEmail(user.email)).toEqual(user);
  });

  it('users: unknown id or email is null', async () => {
    expect(await stores().users.findById('usr_nobody')).toBeNull();
    expect(await stores().users.findByEmail('nobody@example.test')).toBeNull();
  });

  it('users: a duplicate email throws EmailTakenError and changes nothing', async () => {
    const first = makeUser();
    await stores().users.create(first);
    const err = await stores()
      .users.create(makeUser({ email: first.email }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmailTakenError);
    expect((err as EmailTakenError).code).toBe('email_taken');
    expect(await stores().users.findByEmail(first.email)).toEqual(first);
  });

  it('users: of 20 concurrent creates with one email exactly one succeeds', async () => {
    const email = 'race@example.test';
    const candidates = Array.from({ length: 20 }, () => makeUser({ email }));
    const results = await Promise.allSettled(candidates.map((u) => stores().users.create(u)));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [candidates[i]!] : []));
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(EmailTakenError);
    expect((await stores().users.findByEmail(email))?.id).toBe(won[0]!.id);
  });

  it('users: a duplicate id is refused, and not as EmailTakenError', async () => {
    const first = makeUser();
    await stores().users.create(first);
    const err = await stores()
      .users.create(makeUser({ id: first.id, email: 'other@example.test' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(EmailTakenError);
    expect(await stores().users.findByEmail('other@example.test')).toBeNull();
  });

  it('users: updatePassword replaces the hash it was given and bumps updatedAt; unknown id is false', async () => {
    const user = makeUser();
    await stores().users.create(user);
    expect(await stores().users.updatePassword(user.id, { from: user.passwordHash, to: '$argon2id$new' }, T0 + 5000)).toBe(true);
    expect(await stores().users.findById(user.id)).toEqual({ ...user, passwordHash: '$argon2id$new', updatedAt: T0 + 5000 });
    expect(await stores().users.updatePassword('usr_nobody', { from: user.passwordHash, to: '$argon2id$x' }, T0)).toBe(false);
  });

  // Concurrent password changes: each verified the same current password, so only one may win
  // (the others would each answer "changed" while only the last write's password works).
  it('users: updatePassword is compare-and-set: a stale hash changes nothing; of 10 concurrent changes from one hash exactly one wins', async () => {
    const user = makeUser();
    await stores().users.create(user);
    expect(await stores().users.updatePassword(user.id, { from: '$argon2id$stale', to: '$argon2id$x' }, T0 + 1)).toBe(false);
    expect((await stores().users.findById(user.id))?.passwordHash).toBe(user.passwordHash);
    const targets = Array.from({ length: 10 }, (_, i) => `$argon2id$new-${i}`);
    const results = await Promise.all(targets.map((to) => stores().users.updatePassword(user.id, { from: user.passwordHash, to }, T0 + 2)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await stores().users.findById(user.id))?.passwordHash).toBe(targets[results.indexOf(true)]);
  });

  it('users: a returned user is a copy', async () => {
    const user = makeUser({ roles: ['admin'] });
    await stores().users.create(user);
    const found = (await stores().users.findById(user.id))!;
    found.roles.push('root');
    found.passwordHash = 'tampered';
    user.roles.push('root');
    expect(await stores().users.findById(user.id)).toEqual({ ...user, roles: ['admin'] });
  });
}
