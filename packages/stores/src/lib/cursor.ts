import { InvalidCursorError } from '../errors.js';

/**
 * Parses a revocation cursor of the backends whose cursor is an append sequence number
 * written in decimal (memory, SQLite). `null` and `"0"` both mean "before the first event".
 * Throws {@link InvalidCursorError} for anything else, so junk from a query string is refused
 * instead of being read as 0 (which would silently replay the whole feed) or as NaN.
 */
export function parseSeqCursor(cursor: string | null): number {
  if (cursor === null) return 0;
  if (!/^(?:0|[1-9][0-9]{0,15})$/.test(cursor)) throw new InvalidCursorError();
  const seq = Number(cursor);
  if (!Number.isSafeInteger(seq)) throw new InvalidCursorError();
  return seq;
}

/**
 * Checks the `limit` of `RevocationStore.since`. A bad limit is a programming error, and SQL
 * would read `LIMIT -1` as "no limit", so it is refused rather than passed on.
 */
export function assertLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
}

/** Checks the `limit` of a `SessionStore.listActive` or `UserStore.list` page: 1 to 1000 (a page is one response). */
export function assertPageLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new RangeError('page limit must be an integer from 1 to 1000');
}
