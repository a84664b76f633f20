import { createHash } from 'node:crypto';
import { isStoreUnavailable } from '../errors.js';
import { createTurnBatcher } from '../lib/turn-batch.js';
import type { PgPoolClientLike, PgPoolLike, PgQueryable, PgResult } from './driver.js';

/**
 * A BIGINT column's value as a number. pg returns BIGINT (int8) as a string because it may not
 * fit a double; every BIGINT here is a time in ms or seconds, or a cursor, all far below 2^53.
 */
export const num = (value: string | number): number => Number(value);

/** {@link num} for a nullable BIGINT column. */
export const numOrNull = (value: string | number | null): number | null => (value === null ? null : Number(value));

/**
 * Whether a string can be stored in a text column: PostgreSQL's text cannot hold NUL, so no stored
 * id contains one. Sent as a parameter, such a string fails the whole statement (22021), and with
 * it every other lookup of a batch: batched lookups answer it as "not found" without sending it.
 */
export const storable = (text: string): boolean => !text.includes('\0');

/** Runs a named prepared statement (`TrackedPool.prepared`). */
type RunPrepared = <R>(name: string, text: string, values: unknown[]) => Promise<PgResult<R>>;

/** Options of the stores whose point reads are batched per turn (`lib/turn-batch.ts`). */
export interface BatchedReadOptions {
  /**
   * Counts a batch waiting for the end of the turn as work in flight, so that closing the pool
   * waits for it (`TrackedPool.hold`). Default: none.
   */
  hold?: () => () => void;
  /** Sends the batched reads as named prepared statements ({@link hotStatement}). Default: none (unnamed). */
  prepared?: RunPrepared;
}

/**
 * SQLSTATEs of a named statement missing on the server connection (26000), or prepared there
 * already by another client (42P05): what a pooler in transaction mode that does not track
 * prepared statements causes (PgBouncer before 1.21, or with `max_prepared_statements = 0`),
 * handing each transaction a server connection of its choice.
 */
const UNTRACKED_PREPARED_STATEMENT = new Set(['26000', '42P05']);

/**
 * One hot statement, as a function of its values. With `prepared`, it is a named prepared
 * statement: parsed and planned once per connection instead of on every query (for the session
 * lookup's join, most of what PostgreSQL spends on it). The name is derived from the text, so two
 * clients using one name always mean one statement. The first error saying a pooler moved the
 * statement away (see {@link UNTRACKED_PREPARED_STATEMENT}) turns the name off for the life of
 * the store, and the statement is sent again unnamed: both errors come before the statement runs
 * (at its Parse or Bind), so even a write is made once.
 */
export function hotStatement<R>(db: PgQueryable, text: string, prepared?: RunPrepared): (values: unknown[]) => Promise<PgResult<R>> {
  if (!prepared) return (values) => db.query<R>(text, values);
  const name = `tessera_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
  let named = true;
  return async (values) => {
    if (!named) return db.query<R>(text, values);
    try {
      return await prepared<R>(name, text, values);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (typeof code !== 'string' || !UNTRACKED_PREPARED_STATEMENT.has(code)) throw err;
      named = false;
      return db.query<R>(text, values);
    }
  };
}

/**
 * A point read by id, batched per turn of the event loop (`lib/turn-batch.ts`): the ids asked for
 * in one turn go to the database as one `text` taking them as `$1` (`… WHERE id = ANY($1::text[])`,
 * through {@link hotStatement}), and each caller gets `toResult` of its own row, built afresh.
 * An id PostgreSQL cannot store (a NUL byte) is not found, and never joins a batch it would fail
 * for the others.
 */
export function batchedById<R extends { id: string }, T>(
  db: PgQueryable,
  text: string,
  toResult: (row: R) => T,
  options: BatchedReadOptions,
): (id: string) => Promise<T | null> {
  const read = hotStatement<R>(db, text, options.prepared);
  const lookup = createTurnBatcher(
    async (ids) => new Map((await read([ids])).rows.map((r) => [r.id, r])),
    (found, id) => {
      const r = found.get(id);
      return r ? toResult(r) : null;
    },
    options,
  );
  return async (id) => (storable(id) ? lookup(id) : null);
}

/** Rows a statement changed, 0 when pg reports no count. */
export const changed = (result: { rowCount: number | null }): number => result.rowCount ?? 0;

/** Schema names accepted by the `schema` option: plain lower-case identifiers, as PostgreSQL folds unquoted ones. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The schema name, checked and double-quoted for interpolation into SQL. Only plain lower-case
 * identifiers are accepted, so `tessera` in the option and `tessera` typed into psql name the same schema.
 */
export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new TypeError('schema must be a lower-case PostgreSQL identifier (a-z, 0-9, _; at most 63 characters)');
  }
  return `"${schema}"`;
}

const ignore = (): void => {};

/**
 * Runs `work` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it
 * throws. A connection whose ROLLBACK fails (it was lost) goes back to the pool as broken, so the
 * pool discards it rather than handing out a connection stuck in a failed transaction.
 */
export async function transaction<T>(pool: PgPoolLike, work: (client: PgQueryable) => Promise<T>): Promise<T> {
  const client: PgPoolClientLike = await pool.connect();
  // A checked-out connection has no pool listener: if the server went away between two of our
  // statements, pg would emit 'error' with nobody listening and end the process. The statement
  // in progress (or the next one) fails anyway, and that is where the error is handled.
  client.on('error', ignore);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A connection that timed out or dropped would only make ROLLBACK wait (or fail) in turn:
    // discarding it ends the transaction on the server just as well, and the 503 comes sooner.
    if (isStoreUnavailable(err)) broken = err instanceof Error ? err : new Error('store unavailable');
    else {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error('ROLLBACK failed');
      });
    }
    throw err;
  } finally {
    client.off('error', ignore);
    client.release(broken);
  }
}
