import type { RevocationRule } from '@tessera/core';
import { readJsonObject, writeJsonAtomically } from '../lib/persisted-file.js';
import { isCursor, isWireRule } from './wire.js';

/** What the feed keeps across restarts. */
export interface SavedFeed {
  cursor: string | null;
  rules: RevocationRule[];
}

/**
 * Reads the rules and cursor saved in `file`, dropping every rule whose `until` is before
 * `oldestUntil` (seconds). A missing, unreadable or foreign file, and each malformed rule in it,
 * is skipped, never trusted: the rules pass the same check as the events off the wire.
 */
export function readFeedCache(file: string, oldestUntil: number): SavedFeed {
  const saved = readJsonObject(file);
  const rules: RevocationRule[] = [];
  if (Array.isArray(saved?.rules)) {
    for (const r of saved.rules as unknown[]) {
      if (!isWireRule(r) || r.until < oldestUntil) continue;
      rules.push({ sid: r.sid, sub: r.sub, notBefore: r.not_before, until: r.until });
    }
  }
  const cursor = saved?.cursor;
  return { cursor: isCursor(cursor) ? cursor : null, rules };
}

/** Writes the rules (in wire form, so {@link readFeedCache} reads them back through the wire check) and the cursor. Throws what the file system throws. */
export function writeFeedCache(file: string, { cursor, rules }: SavedFeed): void {
  writeJsonAtomically(file, {
    cursor,
    rules: rules.map((r) => ({ sid: r.sid, sub: r.sub, not_before: r.notBefore, until: r.until })),
  });
}
