import { Buffer } from 'node:buffer';
import { OptionError } from '@tessera/core';
import type { RedisSubscriber } from './redis-source.js';

/** Default Redis channel, the one the auth server publishes on. */
export const DEFAULT_FEED_CHANNEL = 'tessera:revocations';
/** Default outage (ms) tolerated before `failMode` applies. */
export const DEFAULT_MAX_OUTAGE_MS = 60_000;
/** Default silence (ms) after which an SSE stream is taken for dead: three of the auth server's 15 s heartbeats. */
export const DEFAULT_SSE_IDLE_TIMEOUT_MS = 45_000;
/** Default first reconnect delay (ms). */
export const DEFAULT_MIN_RETRY_MS = 100;
/** Default longest reconnect delay (ms). */
export const DEFAULT_MAX_RETRY_MS = 5_000;

/** Node runs a timer longer than 2^31 - 1 ms after 1 ms instead. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The least and most each timing option takes (ms). A reconnect or retry delay of 0 would hammer
 * the auth server in a tight loop; an idle timeout shorter than a round trip would drop every
 * stream; an outage allowance of 0 would fail closed on any reconnect; and past the timer limit a
 * delay would fire after 1 ms.
 */
export const TIMING_BOUNDS = {
  minRetryMs: [10, MAX_TIMER_MS],
  maxRetryMs: [10, MAX_TIMER_MS],
  sseIdleTimeoutMs: [100, MAX_TIMER_MS],
  maxOutageMs: [100, Number.MAX_SAFE_INTEGER],
} as const satisfies Record<string, readonly [number, number]>;

/** The resource server's credentials for the feed (`TESSERA_RESOURCE_SERVERS` on the auth server). */
export interface FeedCredentials {
  /** The resource server's client id. */
  id: string;
  /** Its secret. Never logged, never part of an error message. */
  secret: string;
}

/** Options for {@link RevocationFeed}. Durations in ms. Validated when the feed is created. */
export interface RevocationFeedOptions {
  /** The auth server's base URL (the issuer): SSE at `/v1/revocations/stream`, catch-up at `/v1/revocations`. Required. */
  issuer: string;
  /**
   * The resource server's credentials, sent as HTTP Basic on the SSE stream and the catch-up
   * requests: the auth server answers its feed only to resource servers it knows
   * (`TESSERA_RESOURCE_SERVERS`). Without them those requests get 401 and the feed stays down.
   * Default: none.
   */
  credentials?: FeedCredentials;
  /** Source of live events. Default `'sse'`. With `'redis'`, pass `redis`. */
  source?: 'sse' | 'redis';
  /**
   * Redis connection for `source: 'redis'`: a subscriber client (e.g. `new Redis(url)` from ioredis),
   * or a URL (needs the `ioredis` package, loaded only then). Required with `source: 'redis'`.
   */
  redis?: RedisSubscriber | string;
  /** Redis channel. Default `tessera:revocations`. */
  channel?: string;
  /** What to do when the feed has been down longer than `maxOutageMs`: `'open'` keeps verifying with what is known; `'closed'` refuses every token. Default `'open'`. */
  failMode?: 'open' | 'closed';
  /** Outage tolerated before `failMode` applies. Default 60 000, at least 100. */
  maxOutageMs?: number;
  /**
   * An SSE stream that delivers no byte for this long is taken for dead (a half-open connection
   * sends no error) and reconnected. The auth server writes a heartbeat every 15 s. Default 45 000,
   * at least 100, at most 2 147 483 647.
   */
  sseIdleTimeoutMs?: number;
  /** First delay before reconnecting the SSE stream or retrying a failed catch-up, doubled on each failure up to `maxRetryMs`. Default 100, at least 10. */
  minRetryMs?: number;
  /** Longest delay before reconnecting the SSE stream, and between retries of a failed catch-up. Default 5 000, at least 10 and at least `minRetryMs`. */
  maxRetryMs?: number;
  /**
   * Keep the rules (and the cursor) in this file too, rewritten at most once a second and on
   * close, and read at start: a service restarted while the auth server is unreachable still
   * refuses the tokens revoked before. Like the persisted JWKS, the file is trusted: keep it
   * where only the service can write. Default: none.
   */
  cacheFile?: string;
  /**
   * Seconds a rule is kept past its `until`: the clock leeway of the verifier it serves, which
   * accepts a token up to that long after its `exp`. Default 0; `createVerifier` passes its own.
   */
  keepPastUntilS?: number;
  /** Injectable for tests. Default global `fetch`. */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

/** {@link RevocationFeedOptions} checked, with every default filled in (and the issuer without a trailing slash). */
export type ResolvedFeedOptions = Required<Omit<RevocationFeedOptions, 'redis' | 'cacheFile' | 'credentials'>> &
  Pick<RevocationFeedOptions, 'redis' | 'cacheFile'> & {
    /** The `Authorization` header of the feed's HTTP requests, or null without credentials. */
    authorization: string | null;
  };

/** Checks `options` (a bad one throws `OptionError` naming it) and fills in the defaults. */
export function resolveFeedOptions(options: RevocationFeedOptions): ResolvedFeedOptions {
  validate(options);
  return {
    issuer: options.issuer.replace(/\/+$/, ''),
    source: options.source ?? 'sse',
    channel: options.channel ?? DEFAULT_FEED_CHANNEL,
    failMode: options.failMode ?? 'open',
    maxOutageMs: options.maxOutageMs ?? DEFAULT_MAX_OUTAGE_MS,
    minRetryMs: options.minRetryMs ?? DEFAULT_MIN_RETRY_MS,
    maxRetryMs: options.maxRetryMs ?? DEFAULT_MAX_RETRY_MS,
    sseIdleTimeoutMs: options.sseIdleTimeoutMs ?? DEFAULT_SSE_IDLE_TIMEOUT_MS,
    keepPastUntilS: options.keepPastUntilS ?? 0,
    fetch: options.fetch ?? globalThis.fetch,
    clock: options.clock ?? Date.now,
    authorization: basic(options.credentials),
    ...(options.redis !== undefined ? { redis: options.redis } : {}),
    ...(options.cacheFile !== undefined ? { cacheFile: options.cacheFile } : {}),
  };
}

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
  if (options.cacheFile !== undefined && (typeof options.cacheFile !== 'string' || options.cacheFile === '')) {
    throw new OptionError('"revocations.cacheFile" must be a file path');
  }
  const keep = options.keepPastUntilS;
  if (keep !== undefined && (!Number.isFinite(keep) || keep < 0)) throw new OptionError('"keepPastUntilS" must be a number of seconds ≥ 0');
  for (const [k, [least, most]] of Object.entries(TIMING_BOUNDS) as [keyof typeof TIMING_BOUNDS, readonly [number, number]][]) {
    const v = options[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < least || v > most)) {
      throw new OptionError(`"revocations.${k}" must be a number of ms from ${least} to ${most}`);
    }
  }
  const min = options.minRetryMs ?? DEFAULT_MIN_RETRY_MS;
  const max = options.maxRetryMs ?? DEFAULT_MAX_RETRY_MS;
  if (max < min) throw new OptionError('"revocations.maxRetryMs" must be at least "revocations.minRetryMs"');
  validateCredentials(options.credentials);
}

/** True when `v` holds a control character (a header cannot carry it whole). */
const hasControl = (v: string) => [...v].some((ch) => (ch.codePointAt(0) ?? 0) < 0x20 || ch === '\u007f');

/** Client ids and secrets as `TESSERA_RESOURCE_SERVERS` takes them: a secret of 16 characters or more. */
function validateCredentials(c: FeedCredentials | undefined): void {
  if (c === undefined) return;
  // The messages name the option, never the values: a secret must not reach a log.
  if (c === null || typeof c !== 'object') throw new OptionError('"revocations.credentials" must be { id, secret }');
  if (typeof c.id !== 'string' || c.id === '' || c.id.includes(':') || /\s/.test(c.id) || hasControl(c.id)) {
    throw new OptionError('"revocations.credentials.id" must be a client id: non-empty, no ":" and no whitespace');
  }
  if (typeof c.secret !== 'string' || c.secret.length < 16 || hasControl(c.secret)) {
    throw new OptionError('"revocations.credentials.secret" must be a string of at least 16 characters');
  }
}

/** The HTTP Basic `Authorization` of the credentials (each part form-urlencoded, RFC 6749 §2.3.1). */
function basic(c: FeedCredentials | undefined): string | null {
  if (c === undefined) return null;
  return `Basic ${Buffer.from(`${encodeURIComponent(c.id)}:${encodeURIComponent(c.secret)}`, 'utf8').toString('base64')}`;
}
