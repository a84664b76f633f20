import { Buffer } from 'node:buffer';
import { type Algorithm, importJwks, type KeyResolver, OptionError, type VerificationKey } from '@tessera/core';
import { readJsonObject, writeJsonAtomically } from '../lib/persisted-file.js';

/** Node runs a timer longer than 2^31 - 1 ms after 1 ms instead. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The least and most each timing option of {@link RemoteJwks} takes (ms). A cache time or
 * cooldown of 0 would let every request with an unknown `kid` fetch the JWKS (the auth server
 * amplifies whatever a service is sent); a fetch timeout shorter than a round trip would never
 * succeed; past the timer limit a timeout would fire after 1 ms.
 */
export const JWKS_TIMING_BOUNDS = {
  minCacheMs: [1_000, Number.MAX_SAFE_INTEGER],
  maxCacheMs: [1_000, Number.MAX_SAFE_INTEGER],
  defaultCacheMs: [1_000, Number.MAX_SAFE_INTEGER],
  cooldownMs: [1_000, Number.MAX_SAFE_INTEGER],
  timeoutMs: [100, MAX_TIMER_MS],
} as const satisfies Record<string, readonly [number, number]>;

/** Options for {@link RemoteJwks}. Durations in milliseconds, each within {@link JWKS_TIMING_BOUNDS}. */
export interface RemoteJwksOptions {
  /** The JWKS URL, e.g. `https://auth.example/.well-known/jwks.json`. Required. */
  url: string;
  /** Algorithms to accept from the set. Default: ES256, EdDSA, RS256, PS256. */
  algorithms?: readonly Algorithm[];
  /** Fewest ms to cache a response, whatever its `max-age`. Default 30 000, at least 1 000. */
  minCacheMs?: number;
  /** Most ms to cache a response, whatever its `max-age`. Default 3 600 000, at least 1 000 and at least `minCacheMs`. */
  maxCacheMs?: number;
  /** Cache time when the response has no `max-age`. Default 300 000, at least 1 000. */
  defaultCacheMs?: number;
  /** After a refetch for an unknown `kid`, no other such refetch for this long. Default 10 000, at least 1 000. */
  cooldownMs?: number;
  /** Fetch timeout. Default 3 000, at least 100, at most 2 147 483 647. */
  timeoutMs?: number;
  /** Keep the last good JWKS in this file, so a service restarted while the auth server is down still verifies. Default: none. */
  cacheFile?: string;
  /** Injectable for tests. Default global `fetch`. */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

/** What {@link RemoteJwks.status} reports. */
export interface JwksStatus {
  keys: number;
  fetchedAt: number | null;
  expiresAt: number;
  /** True while serving keys past their cache time because refreshing failed. */
  stale: boolean;
  lastError: string | null;
  fetches: number;
}

interface Persisted {
  fetchedAt: number;
  jwks: unknown;
}

function parseMaxAge(header: string | null): number | undefined {
  const m = header ? /(?:^|,)\s*max-age=(\d+)/i.exec(header) : null;
  return m ? Number(m[1]) * 1000 : undefined;
}

/**
 * A remote JWKS, resolved synchronously from memory on the hot path. It is cached for the
 * response's `max-age` (bounded), refetched once on an unknown `kid` (at most once per
 * cooldown, so a flood of random kids cannot amplify into fetches), refreshed in the
 * background when it expires, and served stale when the auth server is unreachable: an
 * outage never makes a valid token fail. Optionally persisted to a file.
 */
/** A key set is a few kilobytes; anything near this is not one, and is not read into memory. */
export const MAX_JWKS_BYTES = 1024 * 1024;

/** The body as text, refusing (and cancelling) one longer than `max` bytes, announced or not. */
async function readCapped(res: Response, max: number): Promise<string> {
  const announced = Number(res.headers.get('content-length'));
  if (announced > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`JWKS response is larger than ${max} bytes`);
  }
  if (!res.body) {
    const text = await res.text();
    if (Buffer.byteLength(text) > max) throw new Error(`JWKS response is larger than ${max} bytes`);
    return text;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`JWKS response is larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class RemoteJwks implements KeyResolver {
  readonly url: string;
  #o: Required<Omit<RemoteJwksOptions, 'cacheFile' | 'algorithms'>> & Pick<RemoteJwksOptions, 'cacheFile' | 'algorithms'>;
  #keys = new Map<string, VerificationKey>();
  #fetchedAt: number | null = null;
  #expiresAt = 0;
  /** When the next background refresh may start: the expiry after a success, a short back-off after a failure. */
  #refreshAt = 0;
  #lastError: string | null = null;
  #lastKidFetch = Number.NEGATIVE_INFINITY;
  #inflight: Promise<boolean> | null = null;
  #fetches = 0;
  /** Whether the persisted copy was read already (it is read once, before the first fetch or after it failed). */
  #fileTried = false;

  constructor(options: RemoteJwksOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new OptionError('"jwksUri" must be an absolute URL');
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new OptionError('"jwksUri" must be http(s)');
    this.url = options.url;
    this.#o = {
      url: options.url,
      minCacheMs: options.minCacheMs ?? 30_000,
      maxCacheMs: options.maxCacheMs ?? 3_600_000,
      defaultCacheMs: options.defaultCacheMs ?? 300_000,
      cooldownMs: options.cooldownMs ?? 10_000,
      timeoutMs: options.timeoutMs ?? 3_000,
      fetch: options.fetch ?? globalThis.fetch,
      clock: options.clock ?? Date.now,
      ...(options.cacheFile ? { cacheFile: options.cacheFile } : {}),
      ...(options.algorithms ? { algorithms: options.algorithms } : {}),
    };
    for (const [k, [least, most]] of Object.entries(JWKS_TIMING_BOUNDS) as [keyof typeof JWKS_TIMING_BOUNDS, readonly [number, number]][]) {
      const v = this.#o[k];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < least || v > most) {
        throw new OptionError(`"jwks.${k}" must be a number of ms from ${least} to ${most}`);
      }
    }
    if (this.#o.maxCacheMs < this.#o.minCacheMs) throw new OptionError('"jwks.maxCacheMs" must be at least "jwks.minCacheMs"');
  }

  /** The key for `kid`, from memory. Starts a background refresh when the cache time has passed. */
  get(kid: string): VerificationKey | undefined {
    if (this.#o.clock() >= this.#refreshAt && this.#inflight === null) void this.refresh();
    return this.#keys.get(kid);
  }

  /** Loads the persisted copy (if any) and then fetches. Resolves once some keys are known or every source failed. */
  async load(): Promise<void> {
    if (this.#o.cacheFile && this.#fetchedAt === null && !this.#fileTried) {
      this.#fileTried = true;
      await this.#readFile();
    }
    await this.refresh();
  }

  /**
   * For an unknown `kid`: refetches unless another such refetch ran within the cooldown.
   * Resolves true when the set was refreshed.
   */
  async refreshForUnknownKid(): Promise<boolean> {
    const now = this.#o.clock();
    if (this.#inflight) return this.#inflight;
    if (now - this.#lastKidFetch < this.#o.cooldownMs) return false;
    this.#lastKidFetch = now;
    return this.refresh();
  }

  /** Fetches now (single-flight). On failure keeps serving what it has. Resolves whether it succeeded. */
  refresh(): Promise<boolean> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #fetch(): Promise<boolean> {
    this.#fetches++;
    try {
      const res = await this.#o.fetch(this.url, {
        signal: AbortSignal.timeout(this.#o.timeoutMs),
        headers: { accept: 'application/json' },
      });
      if (!res.ok) throw new Error(`JWKS answered ${res.status}`);
      const jwks: unknown = JSON.parse(await readCapped(res, MAX_JWKS_BYTES));
      // A 200 that is not a key set (a proxy's error page, a misrouted URL) must not wipe the keys we have.
      if (!Array.isArray((jwks as { keys?: unknown } | null)?.keys)) throw new Error('JWKS response has no "keys" array');
      const maxAge = parseMaxAge(res.headers.get('cache-control')) ?? this.#o.defaultCacheMs;
      const now = this.#o.clock();
      await this.#install(jwks, now, Math.min(this.#o.maxCacheMs, Math.max(this.#o.minCacheMs, maxAge)));
      this.#lastError = null;
      if (this.#o.cacheFile) this.#writeFile({ fetchedAt: now, jwks });
      return true;
    } catch (err) {
      this.#lastError = err instanceof Error ? err.message : String(err);
      // Stale-if-error: keep the keys (and their expiry, so status() reports them stale); retry no sooner than the cooldown.
      this.#refreshAt = this.#o.clock() + Math.min(this.#o.cooldownMs, this.#o.minCacheMs);
      // Never loaded (verify() came before ready()) and the issuer is unreachable: the persisted copy.
      if (this.#o.cacheFile && this.#fetchedAt === null && !this.#fileTried) {
        this.#fileTried = true;
        await this.#readFile();
        if (this.#keys.size > 0) {
          this.#refreshAt = this.#o.clock() + Math.min(this.#o.cooldownMs, this.#o.minCacheMs);
          return true;
        }
      }
      return false;
    }
  }

  async #install(jwks: unknown, fetchedAt: number, ttl: number): Promise<void> {
    const imported = await importJwks(jwks, this.#o.algorithms ? { algorithms: this.#o.algorithms } : {});
    const next = new Map<string, VerificationKey>();
    for (const [kid, key] of imported) {
      // Keep the same key object for an unchanged key, so verified-token cache entries stay valid.
      // Compared as keys (algorithm and key material), whatever else the JWK's text holds.
      const previous = this.#keys.get(kid);
      next.set(kid, previous && previous.alg === key.alg && previous.key.equals(key.key) ? previous : key);
    }
    this.#keys = next;
    this.#fetchedAt = fetchedAt;
    this.#expiresAt = fetchedAt + ttl;
    this.#refreshAt = this.#expiresAt;
  }

  async #readFile(): Promise<void> {
    const saved = readJsonObject(this.#o.cacheFile as string) as Partial<Persisted> | undefined;
    // No usable file: nothing to serve yet.
    if (saved === undefined) return;
    try {
      // Loaded as already expired: used only until a fetch succeeds.
      await this.#install(saved.jwks, saved.fetchedAt as number, 0);
    } catch {
      // Keys that do not import: nothing to serve either.
    }
  }

  #writeFile(data: Persisted): void {
    try {
      writeJsonAtomically(this.#o.cacheFile as string, data);
    } catch (err) {
      this.#lastError = `could not persist JWKS: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  status(): JwksStatus {
    return {
      keys: this.#keys.size,
      fetchedAt: this.#fetchedAt,
      expiresAt: this.#expiresAt,
      stale: this.#fetchedAt !== null && this.#o.clock() >= this.#expiresAt && this.#lastError !== null,
      lastError: this.#lastError,
      fetches: this.#fetches,
    };
  }
}
