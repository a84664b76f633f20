import type { PgPoolClientLike, PgPoolLike, PgResult } from './driver.js';

/** A pool that counts its work in flight, so that closing can wait for it. */
export interface TrackedPool extends PgPoolLike {
  /** Refuses new work, waits for the queries and checked-out connections in flight, then ends the pool. Idempotent. */
  close(): Promise<void>;
  /**
   * Counts work that will query soon but has not yet (a lookup batch waiting for the end of the
   * turn) as in flight, so that `close()` waits for it, and admits its queries even once closing
   * has begun. Call the returned function as soon as those queries have been issued (they are then
   * tracked themselves), and synchronously after them: until then any query is admitted. Throws
   * once the pool is closing, as a query would.
   */
  hold(): () => void;
  /**
   * Runs a named prepared statement, tracked like `query`. Only for a pool that takes pg's query
   * config, `query({ name, text, values })`, as `pg.Pool` does.
   */
  prepared<R>(name: string, text: string, values: unknown[]): Promise<PgResult<R>>;
}

/** pg's query config: a pool of pg's own runs a named prepared statement from it. */
interface PgPreparingPool {
  query<R>(statement: { name: string; text: string; values: unknown[] }): Promise<PgResult<R>>;
}

/**
 * Wraps `pool` so that `close()` lets pending writes finish first. pg's own `end()` does not
 * wait for them: a query still queued for a connection when the pool ends is never answered.
 */
export function trackPool(pool: PgPoolLike): TrackedPool {
  let active = 0;
  let idle: (() => void) | undefined;
  let closing: Promise<void> | undefined;

  /** Work held by {@link TrackedPool.hold}: while any is, its queries are admitted during close. */
  let held = 0;
  const enter = (): void => {
    if (closing && held === 0) throw new Error('the PostgreSQL stores are closed');
    active++;
  };
  const leave = (): void => {
    if (--active === 0) idle?.();
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (active > 0) await new Promise<void>((resolve) => (idle = resolve));
      await pool.end();
    })();
    return closing;
  };

  const wrapClient = (client: PgPoolClientLike): PgPoolClientLike => {
    let released = false;
    return {
      query: (text, values) => client.query(text, values),
      on: (event, listener) => client.on(event, listener),
      off: (event, listener) => client.off(event, listener),
      release(err) {
        if (released) return;
        released = true;
        client.release(err);
        leave();
      },
    };
  };

  return {
    async query(text, values) {
      enter();
      try {
        return await pool.query(text, values);
      } finally {
        leave();
      }
    },
    async prepared<R>(name: string, text: string, values: unknown[]) {
      enter();
      try {
        return await (pool as unknown as PgPreparingPool).query<R>({ name, text, values });
      } finally {
        leave();
      }
    },
    async connect() {
      enter();
      try {
        return wrapClient(await pool.connect());
      } catch (err) {
        leave();
        throw err;
      }
    },
    hold() {
      enter();
      held++;
      let holding = true;
      return () => {
        if (!holding) return;
        holding = false;
        held--;
        leave();
      };
    },
    on: (event, listener) => pool.on(event, listener),
    end: close,
    close,
  };
}
