import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { OptionError, RevocationList, type RevocationRule, type WireEvent } from '@tessera/core';

export type { WireEvent };

import { createSseParser } from './sse-parser.js';

/** A subset of ioredis the feed uses (structural, so ioredis stays an optional peer). */
export interface RedisSubscriber {
  subscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'ready' | 'end' | 'close' | 'error', listener: (...args: unknown[]) => void): unknown;
  disconnect(): void;
}

/** Options for {@link RevocationFeed}. Durations in ms. */
export interface RevocationFeedOptions {
  /** The auth server's base URL (the issuer): SSE at `/v1/revocations/stream`, catch-up at `/v1/revocations`. Required. */
  issuer: string;
  /** Source of live events. Default `'sse'`. With `'redis'`, pass `redis`. */
  source?: 'sse' | 'redis';
  /** Redis connection for `source: 'redis'`: a subscriber client (e.g. `new Redis(url)` from ioredis), or a URL (needs the `ioredis` package). */
  redis?: RedisSubscriber | string;
  /** Redis channel. Default `tessera:revocations`. */
  channel?: string;
  /** What to do when the feed has been down longer than `maxOutageMs`: `'open'` keeps verifying with what is known; `'closed'` refuses every token. Default `'open'`. */
  failMode?: 'open' | 'closed';
  /** Outage tolerated before `failMode` applies. Default 60 000. */
  maxOutageMs?: number;
  /**
   * An SSE stream that delivers no byte for this long is taken for dead (a half-open connection
   * sends no error) and reconnected. The auth server writes a heartbeat every 15 s. Default 45 000.
   */
  sseIdleTimeoutMs?: number;
  /** Reconnect back-off bounds. Default 100 → 5 000. */
  minRetryMs?: number;
  maxRetryMs?: number;
  /**
   * Keep the rules (and the cursor) in this file too, rewritten at most once a second and on
   * close, and read at start: a service restarted while the auth server is unreachable still
   * refuses the tokens revoked before. Like the persisted JWKS, the file is trusted: keep it
   * where only the service can write.
   */
  cacheFile?: string;
  /**
   * Seconds a rule is kept past its `until`: the clock leeway of the verifier it serves, which
   * accepts a token up to that long after its `exp`. Default 0; `createVerifier` passes its own.
   */
  keepPastUntilS?: number;
  fetch?: typeof fetch;
  clock?: () => number;
}

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

/** Longest {@link RevocationFeed.start} waits for the first Redis subscription. */
const FIRST_SUBSCRIBE_WAIT_MS = 2_000;

/** How often rules past their `until` are forgotten (measured on the feed's clock). */
const PRUNE_EVERY_MS = 30_000;

function validate(options: RevocationFeedOptions): void {
  if (options === null || typeof options !== 'object') throw new OptionError('revocation feed options are required');
  let url: URL;
  try {
    url = new URL(options.issuer);
  } catch {
    throw new OptionError('"issuer" must be an absolute URL for the revocation feed');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new OptionError('"issuer" must be http(s) for the revocation feed');
  const source = options.source ?? 'sse';
  if (source !== 'sse' && source !== 'redis') throw new OptionError('"revocations.source" must be "sse" or "redis"');
  if (source === 'redis') {
    const r = options.redis;
    if (typeof r === 'string' ? !/^rediss?:\/\//.test(r) : typeof r?.subscribe !== 'function') {
      throw new OptionError('"revocations.redis" must be a redis:// URL or a subscriber client when source is "redis"');
    }
  }
  if (options.failMode !== undefined && options.failMode !== 'open' && options.failMode !== 'closed') {
    throw new OptionError('"revocations.failMode" must be "open" or "closed"');
  }
  const idle = options.sseIdleTimeoutMs;
  // Node runs a timer longer than 2^31 - 1 ms after 1 ms instead: such a bound would abort every stream at once.
  if (idle !== undefined && (!Number.isFinite(idle) || idle <= 0 || idle > 2_147_483_647)) {
    throw new OptionError('"revocations.sseIdleTimeoutMs" must be a positive number of ms, at most 2147483647');
  }
  if (options.cacheFile !== undefined && (typeof options.cacheFile !== 'string' || options.cacheFile === '')) {
    throw new OptionError('"revocations.cacheFile" must be a file path');
  }
  const keep = options.keepPastUntilS;
  if (keep !== undefined && (!Number.isFinite(keep) || keep < 0)) throw new OptionError('"keepPastUntilS" must be a number of seconds ≥ 0');
  for (const k of ['maxOutageMs', 'minRetryMs', 'maxRetryMs'] as const) {
    const v = options[k];
    if (v !== undefined && (!Number.isFinite(v) || v < 0)) throw new OptionError(`"revocations.${k}" must be a non-negative number`);
  }
}

const optionalString = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.length > 0 && v.length <= 256);

/** A feed cursor: an opaque, bounded string. */
const isCursor = (c: unknown): c is string => typeof c === 'string' && c.length > 0 && c.length <= 64;

/** A rule in wire form: finite times, and a session and/or subject id. */
function isWireRule(e: unknown): e is Pick<WireEvent, 'sid' | 'sub' | 'not_before' | 'until'> {
  if (typeof e !== 'object' || e === null) return false;
  const { sid, sub, not_before, until } = e as Record<string, unknown>;
  return (
    Number.isFinite(not_before) &&
    Number.isFinite(until) &&
    optionalString(sid) &&
    optionalString(sub) &&
    (typeof sid === 'string' || typeof sub === 'string')
  );
}

/** An event as the auth server writes it: a cursor, and a rule. */
function isWireEvent(e: unknown): e is WireEvent {
  if (!isWireRule(e)) return false;
  const { cursor, at } = e as Record<string, unknown>;
  return isCursor(cursor) && (at === undefined || Number.isFinite(at));
}

function later(a: string | null, b: string): string {
  if (a === null) return b;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(b) > BigInt(a) ? b : a;
  return b;
}

/**
 * Keeps a verifier's revocation list current: live events over SSE from the auth server (with
 * `Last-Event-ID` resume) or over Redis pub/sub, plus a catch-up through
 * `GET /v1/revocations?since=` after every (re)connect, so nothing published while the
 * connection was down is missed. Rules are forgotten once the tokens they cover have expired.
 */
export class RevocationFeed {
  readonly list = new RevocationList();
  #o: Required<Omit<RevocationFeedOptions, 'redis' | 'cacheFile'>> & Pick<RevocationFeedOptions, 'redis' | 'cacheFile'>;
  #cursor: string | null = null;
  #connected = false;
  #downSince: number;
  #lagMs: number | null = null;
  #events = 0;
  #reconnects = 0;
  #closed = false;
  #abort: AbortController | null = null;
  #redis: RedisSubscriber | null = null;
  #retryMs: number;
  #timers = new Set<NodeJS.Timeout>();
  #listeners = new Set<(e: WireEvent) => void>();
  #prunedAt: number;
  #saveDue = false;
  /** Counts (re)connections, so a catch-up retry chain of an earlier connection stops. */
  #connection = 0;

  /** Validates the options eagerly: a bad one throws `OptionError` here, not when the feed starts. */
  constructor(options: RevocationFeedOptions) {
    validate(options);
    this.#o = {
      issuer: options.issuer.replace(/\/+$/, ''),
      source: options.source ?? 'sse',
      channel: options.channel ?? 'tessera:revocations',
      failMode: options.failMode ?? 'open',
      maxOutageMs: options.maxOutageMs ?? 60_000,
      minRetryMs: options.minRetryMs ?? 100,
      maxRetryMs: options.maxRetryMs ?? 5_000,
      sseIdleTimeoutMs: options.sseIdleTimeoutMs ?? 45_000,
      keepPastUntilS: options.keepPastUntilS ?? 0,
      fetch: options.fetch ?? globalThis.fetch,
      clock: options.clock ?? Date.now,
      ...(options.redis !== undefined ? { redis: options.redis } : {}),
      ...(options.cacheFile !== undefined ? { cacheFile: options.cacheFile } : {}),
    };
    this.#downSince = this.#o.clock();
    this.#prunedAt = this.#downSince;
    this.#retryMs = this.#o.minRetryMs;
  }

  /**
   * Starts listening. Resolves after the first catch-up attempt (successful or not); with Redis,
   * also after the subscription is confirmed or 2 s have passed without it.
   */
  async start(): Promise<void> {
    if (this.#o.cacheFile) this.#readFile(this.#o.cacheFile);
    const prune = setInterval(() => this.#prune(), PRUNE_EVERY_MS);
    prune.unref();
    this.#timers.add(prune);
    if (this.#o.source === 'redis') await this.#startRedis();
    else this.#connectSse();
    await this.catchUp().catch(() => undefined);
  }

  /** Loads persisted rules and cursor; a missing or unreadable file is no error (nothing to load). */
  #readFile(file: string): void {
    let saved: { cursor?: unknown; rules?: unknown };
    try {
      saved = JSON.parse(readFileSync(file, 'utf8')) as typeof saved;
    } catch {
      return;
    }
    if (saved === null || typeof saved !== 'object') return;
    const now = this.#o.clock() / 1000 - this.#o.keepPastUntilS;
    if (Array.isArray(saved.rules)) {
      for (const r of saved.rules) {
        if (!isWireRule(r) || r.until < now) continue;
        this.list.add({ sid: r.sid, sub: r.sub, notBefore: r.not_before, until: r.until });
      }
    }
    if (isCursor(saved.cursor)) this.#cursor = later(this.#cursor, saved.cursor);
  }

  /** Writes the rules and cursor now (temp file, then rename, so a crash never leaves half a file). */
  #writeFile(): void {
    const file = this.#o.cacheFile;
    if (!file) return;
    this.#saveDue = false;
    try {
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      // Rules in wire form, read back through the same check as events.
      const rules = this.list.rules().map((r) => ({ sid: r.sid, sub: r.sub, not_before: r.notBefore, until: r.until }));
      writeFileSync(tmp, JSON.stringify({ cursor: this.#cursor, rules }));
      renameSync(tmp, file);
    } catch {
      // Persisting is best effort: the feed itself is unaffected.
    }
  }

  /** Schedules a write within a second (one write per second at most, however many events arrive). */
  #scheduleSave(): void {
    if (!this.#o.cacheFile || this.#saveDue || this.#closed) return;
    this.#saveDue = true;
    this.#later(() => this.#writeFile(), SAVE_EVERY_MS);
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

  /** Forgets rules past their `until`; also run from {@link apply} and {@link status}, so memory stays bounded by the feed's own clock. */
  #prune(): void {
    this.#prunedAt = this.#o.clock();
    this.list.prune(this.#prunedAt / 1000 - this.#o.keepPastUntilS);
  }

  #maybePrune(): void {
    if (this.#o.clock() - this.#prunedAt >= PRUNE_EVERY_MS) this.#prune();
  }

  /** Applies one event (live, replayed or caught up); malformed events are ignored. */
  apply(e: WireEvent): void {
    if (!isWireEvent(e)) return;
    this.#maybePrune();
    const rule: RevocationRule = { sid: e.sid, sub: e.sub, notBefore: e.not_before, until: e.until };
    this.list.add(rule);
    this.#cursor = later(this.#cursor, e.cursor);
    this.#events++;
    this.#scheduleSave();
    if (typeof e.at === 'number') this.#lagMs = Math.max(0, this.#o.clock() - e.at);
    for (const l of this.#listeners) l(e);
  }

  /**
   * Pulls every event after `from` (default: the last cursor) through `GET /v1/revocations?since=`.
   * Pages from its own cursor: a live event arriving meanwhile moves the feed's cursor past a gap
   * this catch-up must still read.
   */
  async catchUp(from: string | null = this.#cursor): Promise<void> {
    let since = from;
    for (let page = 0; page < 100; page++) {
      const url = `${this.#o.issuer}/v1/revocations?since=${encodeURIComponent(since ?? '0')}&limit=1000`;
      const res = await this.#o.fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (res.status === 400 && since !== null) {
        // Our cursor is not one of this feed's (the auth server's database was replaced, say):
        // start over from the oldest retained event; the rules are idempotent.
        await res.body?.cancel().catch(() => undefined);
        this.#cursor = null;
        since = null;
        continue;
      }
      if (!res.ok) throw new Error(`revocation catch-up answered ${res.status}`);
      const body = (await res.json()) as { events?: WireEvent[] };
      const events = Array.isArray(body.events) ? body.events : [];
      for (const e of events) {
        this.apply(e);
        if (isWireEvent(e)) since = later(since, e.cursor);
      }
      if (events.length < 1000) return;
    }
  }

  #up(): void {
    if (!this.#connected) {
      this.#connected = true;
      this.#retryMs = this.#o.minRetryMs;
      // Whatever was published while we were away: from the cursor held now, whatever live
      // events move it meanwhile.
      this.#catchUpUntilDone(this.#cursor, ++this.#connection, Math.max(1, this.#o.minRetryMs));
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

  #down(): void {
    if (this.#connected) {
      this.#connected = false;
      this.#downSince = this.#o.clock();
    }
  }

  #later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.#timers.add(t);
  }

  #connectSse(): void {
    if (this.#closed) return;
    const abort = new AbortController();
    this.#abort = abort;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.#cursor !== null) headers['last-event-id'] = this.#cursor;
    const run = async () => {
      // A server that takes the connection but never answers is as dead as a silent stream.
      const answerTimer = setTimeout(() => abort.abort(), this.#o.sseIdleTimeoutMs);
      answerTimer.unref();
      const res = await this.#o
        .fetch(`${this.#o.issuer}/v1/revocations/stream`, { headers, signal: abort.signal })
        .finally(() => clearTimeout(answerTimer));
      // A Last-Event-ID this feed does not know: resume from the oldest retained event next time.
      if (res.status === 400 && headers['last-event-id'] !== undefined) this.#cursor = null;
      if (!res.ok || !res.body) throw new Error(`revocation stream answered ${res.status}`);
      if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream'))
        throw new Error('revocation stream is not text/event-stream');
      const parse = createSseParser((ev) => {
        if (ev.event !== 'revocation') return;
        try {
          this.apply(JSON.parse(ev.data) as WireEvent);
        } catch {
          // A malformed event is skipped; the next catch-up repairs any gap.
        }
      });
      const decoder = new TextDecoder();
      // A half-open connection (peer gone, no FIN or RST) delivers nothing and raises nothing:
      // with no byte, not even a heartbeat, for sseIdleTimeoutMs, the stream is dropped.
      let lastByteAt = performance.now();
      const idle = setInterval(
        () => {
          if (performance.now() - lastByteAt >= this.#o.sseIdleTimeoutMs) abort.abort();
        },
        Math.max(10, Math.min(1_000, this.#o.sseIdleTimeoutMs / 4)),
      );
      idle.unref();
      try {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          lastByteAt = performance.now();
          // Connected once the server has said something (the auth server writes a comment at once):
          // a proxy that answers 200 and then holds or closes the stream never counts as a live feed.
          this.#up();
          parse(decoder.decode(chunk, { stream: true }));
        }
      } finally {
        clearInterval(idle);
      }
    };
    run()
      .catch(() => undefined)
      .finally(() => {
        this.#down();
        if (this.#closed) return;
        this.#reconnects++;
        const wait = this.#retryMs;
        this.#retryMs = Math.min(this.#o.maxRetryMs, this.#retryMs * 2);
        this.#later(() => this.#connectSse(), wait * (0.5 + Math.random() / 2));
      });
  }

  async #startRedis(): Promise<void> {
    let client = this.#o.redis as RedisSubscriber | string;
    if (typeof client === 'string') {
      const { Redis } = (await import('ioredis')) as unknown as { Redis: new (url: string, o: object) => RedisSubscriber };
      client = new Redis(client, { lazyConnect: false, maxRetriesPerRequest: null, enableOfflineQueue: true });
      // Closed while ioredis was loading: the client must not outlive the feed.
      if (this.#closed) {
        client.disconnect();
        return;
      }
    }
    this.#redis = client;
    client.on('message', (channel, message) => {
      if (channel !== this.#o.channel) return;
      try {
        this.apply(JSON.parse(message) as WireEvent);
      } catch {
        // Skipped; the catch-up after the next reconnect repairs any gap.
      }
    });
    client.on('ready', () => this.#up());
    client.on('close', () => this.#down());
    client.on('end', () => this.#down());
    client.on('error', () => undefined);
    // Redis down at boot must not hold start() (and the service's startup) forever: wait a bounded
    // time for the first subscription, then go on; ioredis keeps trying and #up() runs when it lands.
    const subscribed = client.subscribe(this.#o.channel).then(
      () => this.#up(),
      () => undefined,
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FIRST_SUBSCRIBE_WAIT_MS);
      timer.unref();
    });
    await Promise.race([subscribed, waited]);
    clearTimeout(timer);
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
      reconnects: this.#reconnects,
      failingClosed: this.failingClosed(),
    };
  }

  /** Stops listening. */
  close(): void {
    if (this.#saveDue) this.#writeFile();
    this.#closed = true;
    this.#abort?.abort();
    this.#redis?.disconnect();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#down();
  }
}
