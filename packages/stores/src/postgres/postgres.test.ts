import pg from 'pg';
import { expect, it } from 'vitest';
import { makeKey, makeRefresh, makeUser, seedSession, T0 } from '../contract/fixtures.js';
import { describeStoreContract } from '../contract/store-contract.js';
import { EmailTakenError } from '../types.js';
import { createPostgresStores } from './index.js';
import { describePostgres } from './test-database.js';

let schemas = 0;

describePostgres('postgres', (database) => {
  // A schema per open: fresh, empty stores for every test, migrated as a node would at start.
  describeStoreContract('postgres', () => createPostgresStores({ connectionString: database().url, schema: `contract_${++schemas}` }));

  it('postgres: keeps everything across close and reopen, and the cursor sequence carries on', async () => {
    const options = { connectionString: database().url, schema: 'reopen' };
    const first = await createPostgresStores(options);
    const user = makeUser({ name: 'Ada', roles: ['admin'] });
    await first.users.create(user);
    const session = await seedSession(first, { userId: user.id, kind: 'cookie', secretHash: 'ab'.repeat(32), csrfToken: 'c' });
    const old = makeRefresh(session);
    const next = makeRefresh(session, { scope: '' });
    await first.refreshTokens.create(old);
    await first.refreshTokens.rotate(old.id, next, T0 + 1);
    const key = makeKey('current');
    await first.keys.insert(key);
    const event = await first.revocations.append({ sid: session.id, sub: null, notBefore: 1, until: 2, reason: 'logout' });
    await first.rateLimits.recordFailure('k', T0, 60_000);
    await first.close();
    await first.close(); // idempotent
    await expect(first.ping()).rejects.toThrow('closed');

    const second = await createPostgresStores(options);
    try {
      expect(await second.users.findByEmail(user.email)).toEqual(user);
      expect(await second.sessions.get(session.id)).toEqual(session);
      expect(await second.refreshTokens.get(old.id)).toEqual({ ...old, rotatedAt: T0 + 1, successorId: next.id });
      expect(await second.refreshTokens.get(next.id)).toEqual(next);
      expect(await second.keys.list()).toEqual([key]);
      expect(await second.revocations.since(null, 10)).toEqual([event]);
      expect(await second.rateLimits.get('k', T0 + 1)).toEqual({ count: 1, lastAt: T0 });
      const later = await second.revocations.append({ sid: null, sub: user.id, notBefore: 3, until: 4, reason: 'admin' });
      expect(await second.revocations.since(event.cursor, 10)).toEqual([later]);
    } finally {
      await second.close();
    }
  });

  // pg's pool closes a connection after any failed statement: were a taken email an error, each
  // such sign-up would fork a new PostgreSQL backend.
  it('postgres: a sign-up with a taken email keeps its connection (no new backend per attempt)', async () => {
    const raw = new pg.Pool({ connectionString: database().url, max: 1 });
    let connections = 0;
    raw.on('connect', () => connections++);
    const stores = await createPostgresStores({ pool: raw, schema: 'taken_email' });
    try {
      const user = makeUser();
      await stores.users.create(user);
      const opened = connections;
      for (let i = 0; i < 5; i++) {
        await expect(stores.users.create(makeUser({ email: user.email }))).rejects.toBeInstanceOf(EmailTakenError);
      }
      expect(connections).toBe(opened);
      expect(await stores.users.findByEmail(user.email)).toEqual(user);
    } finally {
      await stores.close();
    }
  });

  it('postgres: close lets queries already in flight finish', async () => {
    const stores = await createPostgresStores({ connectionString: database().url, schema: 'drain', max: 1 });
    // More writes than connections: most of them are still queued in the pool when close() is called.
    const writes = Array.from({ length: 20 }, (_, i) => stores.rateLimits.recordFailure('k', T0 + i, 60_000));
    await stores.close();
    expect((await Promise.all(writes)).map((r) => r.count)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('postgres: options are checked before anything connects', async () => {
    await expect(createPostgresStores({ connectionString: database().url, schema: 'Bad-Name' })).rejects.toThrow(TypeError);
    await expect(createPostgresStores({ connectionString: database().url, max: 0 })).rejects.toThrow('max');
    await expect(createPostgresStores({})).rejects.toThrow('connectionString or a pool');
  });
});
