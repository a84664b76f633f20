import { InvalidCursorError } from '../errors.js';
import { assertLimit, parseSeqCursor } from '../lib/cursor.js';
import type { RevocationEvent, RevocationStore } from '../types.js';

interface Entry {
  seq: number;
  event: RevocationEvent;
}

/**
 * In-process {@link RevocationStore}. Cursors are a decimal sequence number, like SQLite's, never
 * reused after old events are deleted.
 */
export function createMemoryRevocationStore(): RevocationStore {
  // Ascending by seq; append only pushes, deleteExpired only removes, so it stays sorted.
  let entries: Entry[] = [];
  // Cursors start from the clock (µs-scale) rather than 1 so that, after a restart wiped this
  // store, new cursors are still above any a verifier kept from before: starting again at 1
  // would make it skip every new event until the count caught up with its old cursor.
  let lastSeq = Date.now() * 1000;

  /** Index of the first entry with seq > `after` (binary search: catch-up reads are frequent). */
  const firstAfter = (after: number): number => {
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]!.seq <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  const add = (input: Omit<RevocationEvent, 'cursor'>): RevocationEvent => {
    const seq = ++lastSeq;
    const event: RevocationEvent = { ...input, cursor: String(seq) };
    entries.push({ seq, event });
    return { ...event };
  };

  return {
    async append(input) {
      return add(input);
    },

    async appendAll(inputs) {
      return inputs.map(add);
    },

    async since(cursor, limit) {
      assertLimit(limit);
      const seq = parseSeqCursor(cursor);
      // A cursor this feed never handed out would skip events until the sequence caught up with it.
      if (seq > lastSeq) throw new InvalidCursorError();
      const start = firstAfter(seq);
      return entries.slice(start, start + limit).map((e) => ({ ...e.event }));
    },

    async deleteExpired(nowSeconds) {
      const before = entries.length;
      entries = entries.filter((e) => e.event.until >= nowSeconds);
      return before - entries.length;
    },
  };
}
