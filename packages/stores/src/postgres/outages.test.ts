import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { makeKey } from '../contract/fixtures.js';
import { isStoreUnavailable } from '../errors.js';
import { createPostgresStores, type PgPoolClientLike, type PgPoolLike } from './index.js';
import { describePostgres } from './test-database.js';

const withCode = (code: string): Error => Object.assign(new Error('driver error'), { code });

describe('isStoreUnavailable: PostgreSQL errors', () => {
  it('recognises connection loss, shutdown, exhausted resources and read-only transactions', () => {
    for (const code of [
      '08000',
      '08001',
      '08003',
      '08006',
      '08P01',
      '53000',
      '53100',
      '53200',
      '53300',
      '57P01',
      '57P02',
      '57P03',
      '25006',
    ]) {
      expect(isStoreUnavailable(withCode(code)), code).toBe(true);
    }
  });

  it('does not mistake bugs, constraints or conflicts for outages', () => {
    // unique violation, undefined table, syntax error, serialization failure, deadlock, query canceled, a lowercase look-alike
    for (const code of ['23505', '42P01', '42601', '40001', '40P01', '57014', '08abc']) {
      expect(isStoreUnavailable(withCode(code)), code).toBe(false);
    }
  });

  // pg's "connection closed" errors carry no code: only their exact messages are outages.
  it('recognises pg connection errors without a code by their exact message', () => {
    expect(isStoreUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isStoreUnavailable(new Error('Connection terminated'))).toBe(true);
    expect(isStoreUnavailable(new Error('Client has encountered a connection error and is not queryable'))).toBe(true);
    expect(isStoreUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isStoreUnavailable(new Error('Connection terminated unexpectedly; and then a bug'))).toBe(false);
    expect(isStoreUnavailable(new Error('user input: Connection terminated'))).toBe(false);
    expect(isStoreUnavailable(Object.assign(new Error('Connection terminated'), { code: '23505' }))).toBe(false);
    expect(isStoreUnavailable({ message: 'Connection terminated' })).toBe(false);
  });
});

describe('postgres: a server that cannot be reached', () => {
  it('opening stores on a closed port fails with an error isStoreUnavailable recognises', async () => {
    const err = await createPostgresStores({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres' }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('ECONNREFUSED');
    expect(isStoreUnavailable(err)).toBe(true);
  });
});

describePostgres('postgres: outages', (database) => {
  // A read-only standby (or a primary put in read-only mode) answered reads, so /readyz said
  // ready while every login failed: ping must write, and its failure must read as an outage.
  it('read-only: ping fails with an error isStoreUnavailable recognises, and passes once writable again', async () => {
    const pool = new pg.Pool({ connectionString: database().url, max: 1 });
    const stores = await createPostgresStores({ pool, schema: 'readonly' });
    try {
      await stores.ping();
      await pool.query('SET default_transaction_read_only = on');
      const err = await stores.ping().catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('25006');
      expect(isStoreUnavailable(err)).toBe(true);
      expect(await stores.users.findById('usr_nobody')).toBeNull();
      await pool.query('SET default_transaction_read_only = off');
      await stores.ping();
    } finally {
      await stores.close();
    }
  });

  // pg emits 'error' on a pooled connection that dies while idle; with no listener that ends the process.
  it('a connection killed while idle is reported to onError and replaced; the stores keep working', async () => {
    const errors: Error[] = [];
    const pool = new pg.Pool({ connectionString: database().url, max: 1, application_name: 'tessera_idle_kill' });
    const stores = await createPostgresStores({ pool, schema: 'idle', onError: (e) => errors.push(e) });
    try {
      await stores.ping();
      await terminate(database().url, "application_name = 'tessera_idle_kill'");
      for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(errors.map((e) => isStoreUnavailable(e))).toEqual([true]);
      await stores.ping();
    } finally {
      await stores.close();
    }
  });

  // A checked-out connection has no pool listener either: lost mid-transaction, it must fail the
  // operation as an outage, not crash the process, and not go back to the pool.
  it('a connection lost inside a transaction fails that operation as an outage; the next one succeeds', async () => {
    const pool = new pg.Pool({ connectionString: database().url, max: 1 });
    const plain: PgPoolLike = pool;
    let killAfterBegin = false;
    const killing: PgPoolLike = {
      query: (text, values) => plain.query(text, values),
      end: () => pool.end(),
      on: (event, listener) => pool.on(event, listener),
      async connect(): Promise<PgPoolClientLike> {
        const client = await pool.connect();
        const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        return {
          async query(text, values) {
            const result = await client.query(text, values);
            if (text === 'BEGIN' && killAfterBegin) {
              killAfterBegin = false;
              // Not events.once: that would reject on the 'error' event the kill also causes.
              const ended = new Promise((resolve) => client.once('end', resolve));
              await terminate(database().url, `pid = ${pid}`);
              await ended;
            }
            return result;
          },
          release: (err) => client.release(err),
          on: (event, listener) => client.on(event, listener),
          off: (event, listener) => client.off(event, listener),
        };
      },
    };
    const stores = await createPostgresStores({ pool: killing, schema: 'midway' });
    try {
      const next = makeKey('next');
      await stores.keys.insert(next);
      killAfterBegin = true;
      const err = await stores.keys.promote(next.kid, 1).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(isStoreUnavailable(err)).toBe(true);
      expect(await stores.keys.promote(next.kid, 2)).toBe(true);
    } finally {
      await stores.close();
    }
  });
});

async function terminate(url: string, where: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE ${where} AND pid <> pg_backend_pid()`);
  } finally {
    await admin.end();
  }
}
