import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Stores } from '../types.js';
import { keyContract } from './keys.js';
import { rateLimitContract } from './rate-limits.js';
import { refreshContract } from './refresh-tokens.js';
import { revocationContract } from './revocations.js';
import { sessionContract } from './sessions.js';
import { type StoreContractOptions, userAdminContract } from './user-admin.js';
import { userContract } from './users.js';

/**
 * The one behavioural contract every backend runs (memory, SQLite; later PostgreSQL, Redis).
 * `open` must return fresh, empty stores each call; they are closed after each test. The
 * suite never reads the clock or sleeps: every time is an explicit `now`. `options` describes a
 * composed backend (sessions kept apart from users).
 *
 * @example
 * describeStoreContract('memory', async () => createMemoryStores());
 */
export function describeStoreContract(name: string, open: () => Promise<Stores>, options: StoreContractOptions = {}): void {
  describe(`store contract: ${name}`, () => {
    let current: Stores | undefined;
    const stores = (): Stores => {
      if (!current) throw new Error('stores used outside a test');
      return current;
    };

    beforeEach(async () => {
      current = await open();
    });
    afterEach(async () => {
      await current?.close();
      current = undefined;
    });

    userContract(stores);
    userAdminContract(stores, options);
    sessionContract(stores);
    refreshContract(stores);
    keyContract(stores);
    revocationContract(stores);
    rateLimitContract(stores);

    it('ping resolves while open', async () => {
      await expect(stores().ping()).resolves.toBeUndefined();
    });
  });
}
