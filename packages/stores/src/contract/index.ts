/**
 * @tessera/stores/contract: the behavioural contract every store backend must pass, as a
 * vitest suite, so a backend written outside this repository (another database, a cache in
 * front of one) is held to the same guarantees as memory and SQLite: atomic rotation, one
 * winner per race, every field read back as written. Needs `vitest` (an optional peer
 * dependency); the main `@tessera/stores` entry never loads it.
 *
 * @example
 * // my-backend.test.ts
 * import { describeStoreContract } from '@tessera/stores/contract';
 * describeStoreContract('my backend', async () => openMyStores(await freshDatabase()));
 *
 * The record builders (`makeUser`, `makeSession`, …, all at the fixed time `T0`) are exported
 * too, for a backend's own tests beside the contract.
 */
export { HOUR, MINUTE, makeKey, makeRefresh, makeSession, makeUser, seedSession, T0 } from './fixtures.js';
export { describeStoreContract } from './store-contract.js';
export type { StoreContractOptions } from './user-admin.js';
