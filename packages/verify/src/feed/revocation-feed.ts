import { RevocationList, type RevocationRule, type WireEvent } from '@tessera/core';
import { readFeedCache, writeFeedCache } from './cache-file.js';
import { catchUp } from './catch-up.js';
import { type FeedCredentials, type ResolvedFeedOptions, type RevocationFeedOptions, resolveFeedOptions } from './options.js';
import { RedisSource, type RedisSubscriber } from './redis-source.js';
import type { LiveSource } from './source.js';
import { SseSource } from './sse-source.js';
import { isWireEvent, laterCursor } from './wire.js';

export type { FeedCredentials, RedisSubscriber, RevocationFeedOptions, WireEvent };

/** What {@link RevocationFeed.status} reports. */
export interface FeedStatus {
  source: 'sse' | 'redis';
  connected: boolean;
  /** When the feed went down (ms), or null while connected. */
  downSince: number | null;
  /** Lag of the latest event: receive time minus the server's write time (ms). */
  lagMs: number | null;
  cursor: string | null;
  /** Revocation rules held (bounded by revocations per access-token lifetime). */
  rules: number;
  events: number;
  reconnects: number;
  /** True when fail-closed applies now. */
  failingClosed: boolean;
}

/** Longest a persisted copy of the rules lags behind them. */
const SAVE_EVERY_MS = 1_000;

/** How often rules past their `until` are forgotten (measured on the feed's clock). */
const PRUNE_EVERY_MS = 30_000;

/**
 * Keeps a verifier's revocation list current: live events over SSE from the auth server (with
 * `Last-Event-ID` resume) or over Redis pub/sub, plus a catch-up through
 * `GET /v1/revocations?since=` after every (re)connect, so nothing published while the
 * connection was down is missed. Rules are forgotten once the tokens they cover have expired.
 */
export class RevocationFeed {
  readonly list = new RevocationList();
  #o: ResolvedFeedOptions;
  #source: LiveSource;
  #cursor: string | null = null;
  #connected = false;
  #downSince: number;
  #lagMs: number | null = null;
  #events = 0;
  #closed = false;
  #timers = new Set<NodeJS.Timeout>();
  #listeners = new Set<(e: WireEvent) => void>();
  #prunedAt: number;
  #saveDue = false;
  /** Counts (re)connections, so a catch-up retry chain of an earlier connection stops. */
  #connection = 0;

  /** Validates the options eagerly: a bad one throws `OptionError` here, not when the feed starts. */
  constructor(options: RevocationFeedOptions) {
    this.#o = resolveFeedOptions(options);
    this.#downSince = this.#o.clock();
    this.#prunedAt = this.#downSince;
    const hooks = {
      received: (json: string) => {
        try {
          this.apply(JSON.parse(json) as WireEvent);
        } catch {
          // A malformed message is skipped; the catch-up after the next reconnect repairs any gap.
        }
      },
      up: () => this.#up(),
      down: () => this.#down(),
    };
    this.#source =
      this.#o.source === 'redis'
        ? new RedisSource({ channel: this.#o.channel, redis: this.#o.redis as RedisSubscriber | string }, hooks)
        : new SseSource(this.#o, { current: () => this.#cursor, forget: () => this.#forgetCursor() }, hooks);
  }

  /**
   * Starts listening. Resolves after the first catch-up attempt (successful or not); with Redis,
   * also after the subscription is confirmed or 2 s have passed without it.
   */
  async start(): Promise<void> {
    if (this.#o.cacheFile) this.#load(this.#o.cacheFile);
    const prune = setInterval(() => this.#prune(), PRUNE_EVERY_MS);
    prune.unref();
    this.#timers.add(prune);
    await this.#source.start();
    await this.catchUp().catch(() => undefined);
  }

  /** Calls `listener` for every event applied (tests, metrics). */
  onEvent(listener: (e: WireEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** True when the token's session or subject was revoked. */
  isRevoked = (claims: Parameters<RevocationList['isRevoked']>[0]): boolean => this.list.isRevoked(claims);

  /** True when fail-closed is configured and the feed has been down longer than allowed. */
  failingClosed(): boolean {
    return this.#o.failMode === 'closed' && !this.#connected && this.#o.clock() - this.#downSince > this.#o.maxOutageMs;
  }

  /** Applies one event (live, replayed or caught up); malformed events are ignored. */
  apply(e: WireEvent): void {
    if (!isWireEvent(e)) return;
    this.#maybePrune();
    const rule: RevocationRule = { sid: e.sid, sub: e.sub, notBefore: e.not_before, until: e.until };
    this.list.add(rule);
    this.#cursor = laterCursor(this.#cursor, e.cursor);
    this.#events++;
    this.#scheduleSave();
    if (typeof e.at === 'number') this.#lagMs = Math.max(0, this.#o.clock() - e.at);
    for (const l of this.#listeners) l(e);
  }

  /**
   * Pulls every event after `from` (default: the last cursor) through `GET /v1/revocations?since=`.
   * A cursor the auth server refuses is forgotten, and the catch-up starts over from the oldest
   * retained event.
   */
  catchUp(from: string | null = this.#cursor): Promise<void> {
    return catchUp(this.#o, from, { apply: (e) => this.apply(e), forgetCursor: () => this.#forgetCursor() });
  }

  status(): FeedStatus {
    this.#maybePrune();
    return {
      source: this.#o.source,
      connected: this.#connected,
      downSince: this.#connected ? null : this.#downSince,
      lagMs: this.#lagMs,
      cursor: this.#cursor,
      rules: this.list.size,
      events: this.#events,
      reconnects: this.#source.reconnects,
      failingClosed: this.failingClosed(),
    };
  }

  /** Stops listening, and writes the rules to `cacheFile` if a write is due. */
  close(): void {
    if (this.#saveDue) this.#save();
    this.#closed = true;
    this.#source.close();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#down();
  }

  #forgetCursor(): void {
    this.#cursor = null;
  }

  #up(): void {
    if (!this.#connected) {
      this.#connected = true;
      // Whatever was published while we were away: from the cursor held now, whatever live
      // events move it meanwhile.
      this.#catchUpUntilDone(this.#cursor, ++this.#connection, Math.max(1, this.#o.minRetryMs));
    }
  }

  #down(): void {
    if (this.#connected) {
      this.#connected = false;
      this.#downSince = this.#o.clock();
    }
  }

  /**
   * Catches up from `from`, and keeps retrying (with back-off) while this same connection stays
   * up: a catch-up that failed once must not leave a gap that nothing repairs until the next
   * reconnect. A new connection starts its own catch-up, and this one stops.
   */
  #catchUpUntilDone(from: string | null, connection: number, wait: number): void {
    this.catchUp(from).catch(() => {
      if (this.#closed || !this.#connected || connection !== this.#connection) return;
      this.#later(() => this.#catchUpUntilDone(from, connection, Math.min(Math.max(1, this.#o.maxRetryMs), wait * 2)), wait);
    });
  }

  /** Forgets rules past their `until`; also run from {@link apply} and {@link status}, so memory stays bounded by the feed's own clock. */
  #prune(): void {
    this.#prunedAt = this.#o.clock();
    this.list.prune(this.#prunedAt / 1000 - this.#o.keepPastUntilS);
  }

  #maybePrune(): void {
    if (this.#o.clock() - this.#prunedAt >= PRUNE_EVERY_MS) this.#prune();
  }

  /** Loads persisted rules and cursor, less the rules no token can need any more. */
  #load(file: string): void {
    const saved = readFeedCache(file, this.#o.clock() / 1000 - this.#o.keepPastUntilS);
    for (const rule of saved.rules) this.list.add(rule);
    if (saved.cursor !== null) this.#cursor = laterCursor(this.#cursor, saved.cursor);
  }

  /** Writes the rules and cursor now. */
  #save(): void {
    const file = this.#o.cacheFile;
    if (!file) return;
    this.#saveDue = false;
    try {
      writeFeedCache(file, { cursor: this.#cursor, rules: this.list.rules() });
    } catch {
      // Persisting is best effort: the feed itself is unaffected.
    }
  }

  /** Schedules a write within a second (one write per second at most, however many events arrive). */
  #scheduleSave(): void {
    if (!this.#o.cacheFile || this.#saveDue || this.#closed) return;
    this.#saveDue = true;
    this.#later(() => this.#save(), SAVE_EVERY_MS);
  }

  #later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.#timers.add(t);
  }
}
