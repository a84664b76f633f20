import type { FastifyBaseLogger } from 'fastify';

/** Seconds a client is told to wait (`Retry-After`) when a store cannot answer. */
export const STORE_RETRY_AFTER = 5;

/** Options of {@link StoreHealth}. */
export interface StoreHealthOptions {
  /** Milliseconds since the epoch. */
  clock: () => number;
  log: FastifyBaseLogger;
  /** Milliseconds readiness stays failed after a request saw an outage. Default {@link STORE_RETRY_AFTER} seconds. */
  holdMs?: number;
  /** Milliseconds between reminder log lines while the outage lasts. Default 60 000. */
  remindMs?: number;
}

/**
 * What requests have seen of the stores: the outages they hit (a full or read-only disk, a
 * database that is down), so that readiness fails with them and the log says so once.
 *
 * Readiness needs this beside the store's own ping: a ping can succeed while requests fail (an
 * upsert of the probe row fits in a page already allocated on a full disk; a pool has one good
 * connection left). So a request's outage holds readiness failed for `holdMs`, and the store is
 * back once a ping succeeds after that.
 */
export class StoreHealth {
  readonly #clock: () => number;
  readonly #log: FastifyBaseLogger;
  readonly #holdMs: number;
  readonly #remindMs: number;
  #down = false;
  #lastOutageAt = Number.NEGATIVE_INFINITY;
  #lastLoggedAt = Number.NEGATIVE_INFINITY;
  /** Outages since the last log line. */
  #unlogged = 0;

  constructor(options: StoreHealthOptions) {
    this.#clock = options.clock;
    this.#log = options.log;
    this.#holdMs = options.holdMs ?? STORE_RETRY_AFTER * 1000;
    this.#remindMs = options.remindMs ?? 60_000;
  }

  /** A request failed because a store cannot answer: readiness fails for `holdMs`, and the log says so. */
  outage(err: unknown): void {
    this.#lastOutageAt = this.#clock();
    this.#note(err);
  }

  /**
   * The readiness ping failed. Logged like a request's outage, without holding readiness: the
   * next ping that succeeds is enough to say so.
   */
  pingFailed(err: unknown): void {
    this.#note(err);
  }

  /**
   * Logs the first failure of an episode, then at most one line per `remindMs` with the count
   * since the last: one line per request would flood the log exactly when the disk is full.
   */
  #note(err: unknown): void {
    const now = this.#clock();
    this.#unlogged++;
    if (this.#down && now - this.#lastLoggedAt < this.#remindMs) return;
    const first = !this.#down;
    this.#down = true;
    this.#lastLoggedAt = now;
    this.#log.error(
      { err, failures: this.#unlogged },
      first
        ? `store unavailable: requests that need it answer 503 (Retry-After ${STORE_RETRY_AFTER}) and /readyz fails until it recovers`
        : 'store still unavailable',
    );
    this.#unlogged = 0;
  }

  /** True while readiness must fail whatever a ping says: a request saw an outage within `holdMs`. */
  recentlyFailed(): boolean {
    return this.#clock() - this.#lastOutageAt < this.#holdMs;
  }

  /** A ping succeeded outside the hold window: the episode, if any, is over (logged once). */
  recovered(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#log.info({ failures: this.#unlogged }, 'store available again');
    this.#unlogged = 0;
  }
}
