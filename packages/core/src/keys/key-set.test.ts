import { describe, expect, it } from 'vitest';
import {
  createIssuer,
  createVerifier,
  DEFAULT_ROTATION_POLICY,
  ErrorCodes,
  generateSigningKey,
  KeySet,
  type ManagedKey,
  manageKey,
} from '../index.js';
import { AUDIENCE, expectCode, expectRefused, ISSUER, NOW, NOW_MS } from '../test-fixtures.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
const { maxTokenTtl, leeway, publishAhead, rotateAfter } = DEFAULT_ROTATION_POLICY;

async function managed(state: ManagedKey['state'], createdAt = NOW, alg: 'ES256' | 'HS256' | 'RS256' = 'ES256'): Promise<ManagedKey> {
  const times =
    state === 'current' ? { createdAt, activatedAt: createdAt } : state === 'retired' ? { createdAt, retiredAt: createdAt } : { createdAt };
  return manageKey(await generateSigningKey(alg), state, times);
}

describe('KeySet lifecycle', () => {
  it('signs with the current key and resolves every published key', async () => {
    const current = await managed('current');
    const next = await managed('next');
    const retired = await managed('retired', NOW - 100);
    const set = new KeySet([current, next, retired]);
    expect(set.signingKey()).toBe(current.key);
    for (const k of [current, next, retired]) expect(set.get(k.key.kid)).toBe(k.key);
    expect(set.get('unknown')).toBeUndefined();
    expect(set.get('__proto__')).toBeUndefined();
    expect(set.list().map((k) => k.key.kid)).toEqual([retired.key.kid, current.key.kid, next.key.kid]);
  });

  it('due: asks for a next key when there is none', async () => {
    const set = new KeySet([await managed('current')]);
    expect(set.due(NOW)).toEqual({ needsNext: true, promote: false, deletable: [] });
  });

  // premature rotation: a key that signs before verifiers' JWKS caches hold it fails every token it signs
  it('due: does not promote next before publishAhead, nor before the current key has aged', async () => {
    const set = new KeySet([await managed('current', NOW)]);
    const addedAt = NOW + rotateAfter - 10;
    set.addNext(await managed('next', addedAt));
    expect(set.due(NOW + rotateAfter - 11).promote).toBe(false);
    expect(set.due(addedAt + publishAhead - 1).promote).toBe(false);
    expect(set.due(addedAt + publishAhead).promote).toBe(true);
    expect(set.due(addedAt + publishAhead).needsNext).toBe(false);
    const young = new KeySet([await managed('current', NOW)]);
    young.addNext(await managed('next', NOW - publishAhead));
    expect(young.due(NOW + rotateAfter - 1).promote).toBe(false);
  });

  it('due: promotes at once when nothing signs yet', async () => {
    const set = new KeySet([await managed('next', NOW)]);
    expect(set.due(NOW).promote).toBe(true);
    expectCode(() => set.signingKey(), ErrorCodes.KEY_UNAVAILABLE);
  });

  it('promote: next becomes current and the old current is retired at now', async () => {
    const current = await managed('current', NOW);
    const next = await managed('next', NOW);
    const set = new KeySet([current, next]);
    const at = NOW + rotateAfter;
    const changed = set.promote(at);
    expect(changed.map((k) => [k.key.kid, k.state])).toEqual([
      [current.key.kid, 'retired'],
      [next.key.kid, 'current'],
    ]);
    expect(changed[0]?.retiredAt).toBe(at);
    expect(changed[1]?.activatedAt).toBe(at);
    expect(set.signingKey()).toBe(next.key);
    expect(set.list('next')).toEqual([]);
    expectCode(() => set.promote(at), ErrorCodes.KEY_UNAVAILABLE);
  });

  // premature deletion: removing a retired key before its last token expires logs every holder out
  it('retired keys become deletable only after maxTokenTtl + leeway', async () => {
    const set = new KeySet([await managed('current'), await managed('next')]);
    const retiredAt = NOW + 10;
    const oldKid = set.signingKey().kid;
    set.promote(retiredAt);
    expect(set.due(retiredAt + maxTokenTtl + leeway - 1).deletable).toEqual([]);
    expect(set.due(retiredAt + maxTokenTtl + leeway).deletable).toEqual([oldKid]);
    const custom = new KeySet([await managed('retired', NOW)], { maxTokenTtl: 60, leeway: 0 });
    expect(custom.due(NOW + 59).deletable).toEqual([]);
    expect(custom.due(NOW + 60).deletable).toHaveLength(1);
  });

  it('addNext refuses a second next key; remove refuses the current key (ERR_KEY_INVALID)', async () => {
    const current = await managed('current');
    const set = new KeySet([current]);
    set.addNext(await managed('next'));
    await expect(managed('next').then((k) => set.addNext(k))).rejects.toMatchObject({ code: ErrorCodes.KEY_INVALID });
    expectCode(() => set.remove(current.key.kid), ErrorCodes.KEY_INVALID);
    expect(set.remove('unknown')).toBe(false);
  });

  it('refuses two current keys and invalid policies', async () => {
    const [a, b] = await Promise.all([managed('current'), managed('current')]);
    expectCode(() => new KeySet([a, b]), ErrorCodes.KEY_INVALID);
    expectCode(() => new KeySet([], { leeway: -1 }), ErrorCodes.INVALID_OPTION);
    expectCode(() => new KeySet([], { rotateAfter: Number.NaN }), ErrorCodes.INVALID_OPTION);
    expectCode(() => new KeySet([]).signingKey(), ErrorCodes.KEY_UNAVAILABLE);
  });
});

describe('KeySet JWKS', () => {
  it('publishes next, current and retired public keys, never an HS256 secret or a private member', async () => {
    const keys = [
      await managed('current', NOW, 'RS256'),
      await managed('next'),
      await managed('retired', NOW - 1, 'HS256'),
      await managed('retired', NOW - 2),
    ];
    const set = new KeySet(keys);
    const published = set.jwks().keys;
    expect(published.map((k) => k.kid).sort()).toEqual([keys[0], keys[1], keys[3]].map((k) => k?.key.kid).sort());
    for (const jwk of published) {
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
      expect(jwk.use).toBe('sig');
    }
    expect(JSON.stringify(set.jwks())).not.toContain('"k"');
  });

  it('reflects additions and removals', async () => {
    const set = new KeySet([await managed('current')]);
    expect(set.jwks().keys).toHaveLength(1);
    const next = await managed('next');
    set.addNext(next);
    expect(set.jwks().keys.map((k) => k.kid)).toContain(next.key.kid);
    set.remove(next.key.kid);
    expect(set.jwks().keys.map((k) => k.kid)).not.toContain(next.key.kid);
  });
});

describe('KeySet with a verifier', () => {
  async function setup() {
    const set = new KeySet([await managed('current', NOW)]);
    set.addNext(await managed('next', NOW));
    const issuer = createIssuer({ issuer: ISSUER, audience: AUDIENCE, signingKey: () => set.signingKey(), clock: () => NOW_MS });
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: set, clock: () => NOW_MS });
    return { set, issuer, verifier };
  }

  it('a token signed by a retired key still verifies, cached and uncached, until the key is deleted', async () => {
    const { set, issuer, verifier } = await setup();
    const old = issuer.issue({ sub: 'u1' });
    expect(verifier.verify(old.token).sub).toBe('u1');
    set.promote(NOW + 1);
    expect(set.list('retired').map((k) => k.key.kid)).toEqual([old.kid]);
    expect(verifier.verify(old.token).sub).toBe('u1');
    verifier.clearCache();
    expect(verifier.verify(old.token).sub).toBe('u1');
    const fresh = issuer.issue({ sub: 'u2' });
    expect(fresh.kid).not.toBe(old.kid);
    expect(verifier.verify(fresh.token).sub).toBe('u2');
  });

  // withdrawn key: a key removed after compromise must stop verifying at once, cache or not
  it("a removed key's cached token is refused at once (ERR_TOKEN_KEY)", async () => {
    const { set, issuer, verifier } = await setup();
    const old = issuer.issue({ sub: 'u1' });
    expect(verifier.verify(old.token).sub).toBe('u1');
    expect(verifier.verify(old.token).sub).toBe('u1'); // admitted to the cache on the second verification
    expect(verifier.cacheSize).toBe(1);
    set.promote(NOW + 1);
    expect(set.remove(old.kid)).toBe(true);
    expectRefused(verifier, old.token, ErrorCodes.TOKEN_KEY);
    expect(verifier.cacheSize).toBe(0);
  });

  it('a next key verifies before it signs', async () => {
    const { set, verifier } = await setup();
    const next = set.list('next')[0]?.key;
    if (!next) throw new Error('no next key');
    const early = createIssuer({ issuer: ISSUER, audience: AUDIENCE, signingKey: next, clock: () => NOW_MS }).issue({ sub: 'u3' });
    expect(verifier.verify(early.token).sub).toBe('u3');
  });
});
