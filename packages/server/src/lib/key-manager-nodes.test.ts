import { randomBytes } from 'node:crypto';
import { createMemoryStores } from '@tessera/stores';
import { describe, expect, it } from 'vitest';
import { KeyManager } from './key-manager.js';
import { ServerSecrets } from './secrets.js';

const NOW = 1_700_000_000_000;

describe('KeyManager on several nodes sharing one store', () => {
  // Every node must sign with the same key: one node's rotation (or `keys rotate`) is taken up by
  // the others on their next tick, which re-reads the store.
  it("a rotation by one node is the others' signing key after their next tick", async () => {
    const store = createMemoryStores().keys;
    const secrets = new ServerSecrets(randomBytes(32));
    const start = () => KeyManager.start({ store, secrets, alg: 'ES256', policy: {}, clock: () => NOW });
    const [a, b, c] = await Promise.all([start(), start(), start()]);
    const before = a.signingKey().kid;
    expect([b.signingKey().kid, c.signingKey().kid]).toEqual([before, before]);
    await a.rotateNow();
    const after = a.signingKey().kid;
    expect(after).not.toBe(before);
    await Promise.all([b.tick(), c.tick()]);
    expect([b.signingKey().kid, c.signingKey().kid]).toEqual([after, after]);
    // The new next key is published by every node too.
    const next = a.keySet.list('next').map((k) => k.key.kid);
    expect(next).toHaveLength(1);
    for (const m of [b, c]) expect(m.keySet.list('next').map((k) => k.key.kid)).toEqual(next);
  });
});
