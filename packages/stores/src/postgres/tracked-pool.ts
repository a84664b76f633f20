import type { PgPoolClientLike, PgPoolLike } from './driver.js';

/** A pool that counts its work in flight, so that closing can wait for it. */
export interface TrackedPool extends PgPoolLike {
  /** Refuses new work, waits for the queries and checked-out connections in flight, then ends the pool. Idempotent. */
  close(): Promise<void>;
}

/**
 * Wraps `pool` so that `close()` lets pending writes finish first. pg's own `end()` does not
 * wait for them: a query still queued for a connection when the pool ends is never answered.
 */
export function trackPool(pool: PgPoolLike): TrackedPool {
  let active = 0;
  let idle: (() => void) | undefined;
  let closing: Promise<void> | undefined;

  const enter = (): void => {
    if (closing) throw new Error('the PostgreSQL stores are closed');
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
    async connect() {
      enter();
      try {
        return wrapClient(await pool.connect());
      } catch (err) {
        leave();
        throw err;
      }
    },
    on: (event, listener) => pool.on(event, listener),
    end: close,
    close,
  };
}
