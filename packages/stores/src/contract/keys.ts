import { expect, it } from 'vitest';
import type { Stores } from '../types.js';
import { makeKey, T0 } from './fixtures.js';

/** KeyStore: at most one next and one current key, atomic promotion, retired-only deletion. */
export function keyContract(stores: () => Stores): void {
  it('keys: insert and list every field back, oldest first', async () => {
    const retired = makeKey('retired', { createdAt: T0 - 2000, activatedAt: T0 - 2000, retiredAt: T0 - 1000, alg: 'EdDSA' });
    const current = makeKey('current', { createdAt: T0 - 1000 });
    const next = makeKey('next', { createdAt: T0 });
    for (const k of [next, retired, current]) expect(await stores().keys.insert(k)).toBe(true);
    expect(await stores().keys.list()).toEqual([retired, current, next]);
  });

  it('keys: a second next or current key is refused (false) and changes nothing', async () => {
    const current = makeKey('current');
    const next = makeKey('next');
    await stores().keys.insert(current);
    await stores().keys.insert(next);
    expect(await stores().keys.insert(makeKey('next', { createdAt: T0 + 1 }))).toBe(false);
    expect(await stores().keys.insert(makeKey('current', { createdAt: T0 + 1 }))).toBe(false);
    expect(await stores().keys.insert(makeKey('retired', { createdAt: T0 + 2 }))).toBe(true);
    expect(await stores().keys.insert(makeKey('retired', { createdAt: T0 + 3 }))).toBe(true);
    const states = (await stores().keys.list()).map((k) => k.state).sort();
    expect(states).toEqual(['current', 'next', 'retired', 'retired']);
  });

  it('keys: of two nodes inserting a next key at once exactly one succeeds', async () => {
    const results = await Promise.all([stores().keys.insert(makeKey('next')), stores().keys.insert(makeKey('next'))]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await stores().keys.list()).toHaveLength(1);
  });

  it('keys: a duplicate kid is refused', async () => {
    const key = makeKey('retired');
    await stores().keys.insert(key);
    await expect(stores().keys.insert({ ...key, state: 'next' })).rejects.toThrow();
    expect(await stores().keys.list()).toEqual([key]);
  });

  it('keys: promote retires the current key and makes next current', async () => {
    const current = makeKey('current', { createdAt: T0 - 1000, activatedAt: T0 - 1000 });
    const next = makeKey('next');
    await stores().keys.insert(current);
    await stores().keys.insert(next);
    const now = T0 + 5000;
    expect(await stores().keys.promote(next.kid, now)).toBe(true);
    expect(await stores().keys.list()).toEqual([
      { ...current, state: 'retired', retiredAt: now },
      { ...next, state: 'current', activatedAt: now },
    ]);
    // Room for the following rotation's next key.
    expect(await stores().keys.insert(makeKey('next', { createdAt: now }))).toBe(true);
  });

  it('keys: promote works with no current key (first start)', async () => {
    const next = makeKey('next');
    await stores().keys.insert(next);
    expect(await stores().keys.promote(next.kid, T0 + 1)).toBe(true);
    expect(await stores().keys.list()).toEqual([{ ...next, state: 'current', activatedAt: T0 + 1 }]);
  });

  it('keys: promoting a key that is not next is false and changes nothing', async () => {
    const retired = makeKey('retired', { createdAt: T0 - 1 });
    const current = makeKey('current');
    await stores().keys.insert(retired);
    await stores().keys.insert(current);
    for (const kid of [retired.kid, current.kid, 'kid_nobody']) expect(await stores().keys.promote(kid, T0 + 1)).toBe(false);
    expect(await stores().keys.list()).toEqual([retired, current]);
  });

  it('keys: of two nodes promoting the same key at once exactly one succeeds', async () => {
    const current = makeKey('current', { createdAt: T0 - 1 });
    const next = makeKey('next');
    await stores().keys.insert(current);
    await stores().keys.insert(next);
    const results = await Promise.all([stores().keys.promote(next.kid, T0 + 1), stores().keys.promote(next.kid, T0 + 2)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const keys = await stores().keys.list();
    expect(keys.map((k) => [k.kid, k.state])).toEqual([
      [current.kid, 'retired'],
      [next.kid, 'current'],
    ]);
    expect(keys[0]!.retiredAt).toBe(keys[1]!.activatedAt);
  });

  it('keys: deleteRetired deletes only retired keys', async () => {
    const retired = makeKey('retired', { createdAt: T0 - 1 });
    const current = makeKey('current');
    const next = makeKey('next', { createdAt: T0 + 1 });
    for (const k of [retired, current, next]) await stores().keys.insert(k);
    expect(await stores().keys.deleteRetired(current.kid)).toBe(false);
    expect(await stores().keys.deleteRetired(next.kid)).toBe(false);
    expect(await stores().keys.deleteRetired('kid_nobody')).toBe(false);
    expect(await stores().keys.deleteRetired(retired.kid)).toBe(true);
    expect(await stores().keys.deleteRetired(retired.kid)).toBe(false);
    expect(await stores().keys.list()).toEqual([current, next]);
  });
}
