import type { WireEvent } from '@tessera/core';
import type { ResolvedFeedOptions } from './options.js';
import { isWireEvent, laterCursor } from './wire.js';

/** Events asked for per page of `GET /v1/revocations`. */
const PAGE_SIZE = 1000;
/** Pages read in one catch-up at most (100 000 events, far more than one token lifetime holds). */
const MAX_PAGES = 100;
/** A catch-up request that takes longer than this has failed (and is retried). */
const REQUEST_TIMEOUT_MS = 5_000;

/** What a catch-up does with what it reads. */
export interface CatchUpSink {
  /** Applies one event (the feed checks it first). */
  apply(event: WireEvent): void;
  /** The auth server refused the cursor as not one of its own: the feed's cursor goes too. */
  forgetCursor(): void;
}

/**
 * Reads every event after `from` (null: from the oldest retained event) through
 * `GET /v1/revocations?since=`, page by page, and hands each to `sink`. Pages from its own
 * cursor, not the feed's: a live event arriving meanwhile moves the feed's cursor past a gap this
 * catch-up must still read. Rejects when a page cannot be read; what was applied stays applied.
 */
export async function catchUp(
  options: Pick<ResolvedFeedOptions, 'issuer' | 'fetch' | 'authorization'>,
  from: string | null,
  sink: CatchUpSink,
): Promise<void> {
  let since = from;
  const headers: Record<string, string> = options.authorization !== null ? { authorization: options.authorization } : {};
  for (let page = 0; page < MAX_PAGES; page++) {
    const url = `${options.issuer}/v1/revocations?since=${encodeURIComponent(since ?? '0')}&limit=${PAGE_SIZE}`;
    const res = await options.fetch(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (res.status === 400 && since !== null) {
      // Our cursor is not one of this feed's (the auth server's database was replaced, say):
      // start over from the oldest retained event; the rules are idempotent.
      await res.body?.cancel().catch(() => undefined);
      sink.forgetCursor();
      since = null;
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`revocation catch-up answered ${res.status}`);
    }
    const body = (await res.json()) as { events?: WireEvent[] };
    const events = Array.isArray(body.events) ? body.events : [];
    for (const e of events) {
      sink.apply(e);
      if (isWireEvent(e)) since = laterCursor(since, e.cursor);
    }
    if (events.length < PAGE_SIZE) return;
  }
}
