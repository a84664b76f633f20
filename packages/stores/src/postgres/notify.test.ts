import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Stores } from '../types.js';
import { createPostgresStores } from './index.js';
import { listenForRevocations, type RevocationListener } from './notify.js';
import { describePostgres } from './test-database.js';

const event = (sid: string) => ({ sid, sub: null, notBefore: 100, until: 200, reason: 'logout' });

/** A callback, and a promise of its next call (rejected after `ms`). */
function nextCall<T>(): { callback: (value: T) => void; next: (ms?: number) => Promise<T> } {
  let waiters: ((value: T) => void)[] = [];
  return {
    callback: (value) => {
      const now = waiters;
      waiters = [];
      for (const w of now) w(value);
    },
    next: (ms = 5000) =>
      new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no call within ${ms} ms`)), ms);
        waiters.push((value) => {
          clearTimeout(timer);
          resolve(value);
        });
      }),
  };
}

describePostgres('postgres: revocation LISTEN/NOTIFY', (database) => {
  let stores: Stores;
  let other: Stores;
  let listener: RevocationListener | undefined;
  const notified = nextCall<string>();
  const listening = nextCall<void>();

  beforeAll(async () => {
    stores = await createPostgresStores({ connectionString: database().url });
    // Another schema of the same database: its appends notify on the same channel and must be ignored.
    other = await createPostgresStores({ connectionString: database().url, schema: 'elsewhere' });
    const first = listening.next();
    listener = listenForRevocations({
      connectionString: database().url,
      onNotify: notified.callback,
      onListening: () => listening.callback(),
      retryMinMs: 20,
    });
    await first;
  });

  afterAll(async () => {
    await listener?.close();
    await stores?.close();
    await other?.close();
  });

  it('an append notifies with the cursor it reached, once it committed', async () => {
    const heard = notified.next();
    const stored = await stores.revocations.append(event('s1'));
    expect(await heard).toBe(stored.cursor);
    const batch = notified.next();
    const events = await stores.revocations.appendAll([event('s2'), event('s3')]);
    expect(await batch).toBe(events[1]?.cursor);
  });

  it('an append in another schema is not heard', async () => {
    const heard = notified.next(300);
    await other.revocations.append(event('x1'));
    await expect(heard).rejects.toThrow(/no call/);
  });

  it('an append that rolls back notifies nobody', async () => {
    const client = new pg.Client({ connectionString: database().url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query("SELECT pg_notify('tessera_revocations', 'public:999')");
      const heard = notified.next(300);
      await client.query('ROLLBACK');
      await expect(heard).rejects.toThrow(/no call/);
    } finally {
      await client.end();
    }
  });

  // The database stays the log: a listener cut off says when it listens again, so its owner
  // catches up from its cursor instead of missing what was appended meanwhile.
  it('reconnects after its connection is killed and says so', async () => {
    const pid = listener?.pid;
    expect(pid).toBeTypeOf('number');
    const again = listening.next();
    const admin = new pg.Client({ connectionString: database().url });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.end();
    }
    await again;
    expect(listener?.listening).toBe(true);
    expect(listener?.pid).not.toBe(pid);
    const heard = notified.next();
    const stored = await stores.revocations.append(event('s4'));
    expect(await heard).toBe(stored.cursor);
  });

  it('calls nothing after close', async () => {
    await listener?.close();
    expect(listener?.listening).toBe(false);
    const heard = notified.next(300);
    await stores.revocations.append(event('s5'));
    await expect(heard).rejects.toThrow(/no call/);
  });
});
