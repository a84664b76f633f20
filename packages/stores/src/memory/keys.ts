import type { KeyStore, StoredKey } from '../types.js';

/** In-process {@link KeyStore}. Each method checks and writes synchronously, so "one next, one current" holds. */
export function createMemoryKeyStore(): KeyStore {
  const byKid = new Map<string, StoredKey>();

  const inState = (state: StoredKey['state']): StoredKey | undefined => {
    for (const key of byKid.values()) if (key.state === state) return key;
    return undefined;
  };

  return {
    async list() {
      return [...byKid.values()].map((k) => ({ ...k })).sort((a, b) => a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : 1));
    },

    async insert(key) {
      if (byKid.has(key.kid)) throw new Error('a key with this kid already exists');
      if (key.state !== 'retired' && inState(key.state)) return false;
      byKid.set(key.kid, { ...key });
      return true;
    },

    async promote(nextKid, now) {
      const next = byKid.get(nextKid);
      if (next?.state !== 'next') return false;
      const current = inState('current');
      if (current) {
        current.state = 'retired';
        current.retiredAt = now;
      }
      next.state = 'current';
      next.activatedAt = now;
      return true;
    },

    async deleteRetired(kid) {
      if (byKid.get(kid)?.state !== 'retired') return false;
      return byKid.delete(kid);
    },
  };
}
