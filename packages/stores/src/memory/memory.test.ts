import { expect, it, vi } from 'vitest';
import { describeStoreContract } from '../contract/store-contract.js';
import { createMemoryStores } from './index.js';

describeStoreContract('memory', async () => createMemoryStores());

const event = { sid: 'sid_1', sub: null, notBefore: 1, until: 2, reason: 'logout' };

// A restarted memory store must not hand out cursors below those verifiers kept, or their
// catch-up (`since=<old cursor>`) would skip every revocation made after the restart.
it('memory: cursors after a restart are above the ones issued before it', async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    vi.setSystemTime(1_700_000_000_000);
    const before = createMemoryStores();
    let last = '';
    for (let i = 0; i < 500; i++) last = (await before.revocations.append(event)).cursor;
    vi.setSystemTime(1_700_000_000_001); // restarted a millisecond later
    const after = createMemoryStores();
    const fresh = await after.revocations.append(event);
    expect(await after.revocations.since(last, 10)).toEqual([fresh]);
  } finally {
    vi.useRealTimers();
  }
});

it('memory: ping rejects once closed', async () => {
  const stores = createMemoryStores();
  await stores.close();
  await expect(stores.ping()).rejects.toThrow('closed');
});
