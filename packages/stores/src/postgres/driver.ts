/**
 * The part of node-postgres (`pg`) the stores use, typed structurally: a `pg.Pool` fits, and so
 * does any pool with the same few members (a wrapper that adds tracing, a test double). The
 * driver's own types stay out of our published ones.
 */

/** What a query returns, as far as the stores read it. */
export interface PgResult<R> {
  rows: R[];
  /** Rows inserted, updated, deleted or returned; pg gives null for commands that count nothing. */
  rowCount: number | null;
}

/** Runs one statement, with `$1 … $n` parameters. */
export interface PgQueryable {
  // biome-ignore lint/suspicious/noExplicitAny: pg types rows as `any`; each store names its row shape.
  query<R = any>(text: string, values?: unknown[]): Promise<PgResult<R>>;
}

/** A connection checked out of the pool, for a multi-statement transaction. */
export interface PgPoolClientLike extends PgQueryable {
  /** Returns the connection to the pool; with an error, the pool discards it instead. */
  release(err?: Error | boolean): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
  off(event: 'error', listener: (err: Error) => void): unknown;
}

/** A connection pool: `pg.Pool`, or anything with these members. */
export interface PgPoolLike extends PgQueryable {
  connect(): Promise<PgPoolClientLike>;
  end(): Promise<void>;
  /** pg emits `error` for a connection that fails while idle in the pool. */
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** How long a pool waits on the network before failing a request (with errors `isStoreUnavailable` recognises). */
interface PgTimeouts {
  /** Milliseconds to get a connection: a free one from the pool, or a new one opened. */
  connectMs: number;
  /** Milliseconds a statement may wait for its answer before the connection is given up. */
  queryMs: number;
}

/**
 * The serving pool's timeouts. Without them a partitioned or frozen database (no reset, no
 * answer) held every request until the HTTP timeout; with them a request fails closed (503)
 * within connectMs + queryMs. Tessera's statements are point reads and writes, far below these.
 */
const SERVING_TIMEOUTS: PgTimeouts = { connectMs: 2000, queryMs: 2000 };

/**
 * Creates a `pg.Pool`, loading `pg` only now: importing `@tessera/stores` (for SQLite or memory)
 * must not load, or require, the PostgreSQL driver. `timeouts` null waits as long as the server
 * takes (migrations, whose statements may rewrite a large table).
 */
export async function createPgPool(
  connectionString: string,
  max: number,
  timeouts: PgTimeouts | null = SERVING_TIMEOUTS,
): Promise<PgPoolLike> {
  const pg = await import('pg');
  // pg is CommonJS: under Node's ESM loader its exports arrive on `default`.
  const Pool = pg.default?.Pool ?? pg.Pool;
  return new Pool({
    connectionString,
    max,
    // A dead peer is found by the kernel too, not only when a statement times out.
    keepAlive: true,
    ...(timeouts && { connectionTimeoutMillis: timeouts.connectMs, query_timeout: timeouts.queryMs }),
  });
}
