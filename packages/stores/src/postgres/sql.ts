import { isStoreUnavailable } from '../errors.js';
import type { PgPoolClientLike, PgPoolLike, PgQueryable } from './driver.js';

/**
 * A BIGINT column's value as a number. pg returns BIGINT (int8) as a string because it may not
 * fit a double; every BIGINT here is a time in ms or seconds, or a cursor, all far below 2^53.
 */
export const num = (value: string | number): number => Number(value);

/** {@link num} for a nullable BIGINT column. */
export const numOrNull = (value: string | number | null): number | null => (value === null ? null : Number(value));

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
