import type { FailureCount, RateLimitStore } from '@tessera/stores';

/** How failures on one identifier are throttled. */
export interface ThrottleRule {
  /** Failures allowed before any back-off. */
  free: number;
  /** Longest single back-off, ms. */
  maxDelayMs: number;
  /** Failures counted per window; at most `hardCap` per window, then blocked until it ends. */
  windowMs: number;
  hardCap: number;
}

/** Per account: 5 free failures, then 1 s, 2 s, 4 s … up to 15 min; never more than 100 in an hour (in practice under 20). */
export const ACCOUNT_RULE: ThrottleRule = { free: 5, maxDelayMs: 15 * 60_000, windowMs: 3_600_000, hardCap: 100 };
/** Per client IP: more room (NAT, shared offices), same shape. */
export const IP_RULE: ThrottleRule = { free: 20, maxDelayMs: 15 * 60_000, windowMs: 3_600_000, hardCap: 1000 };

/**
 * Milliseconds until `count` failures (latest at `lastAt`) allow another attempt, or 0. At the
 * hard cap the block lasts a full window from the latest failure (never longer than that).
 */
export function blockedFor(rule: ThrottleRule, failures: FailureCount, now: number): number {
  const { count, lastAt } = failures;
  if (count >= rule.hardCap) return Math.max(0, lastAt + rule.windowMs - now);
  if (count < rule.free) return 0;
  const delay = Math.min(rule.maxDelayMs, 1000 * 2 ** Math.min(30, count - rule.free));
  return Math.max(0, lastAt + delay - now);
}

/** What {@link LoginThrottle.claim} answers: seconds to wait (0: go ahead), and how to take the charge back. */
export interface Claim {
  wait: number;
  /** Takes back this attempt's charge alone (earlier failures stay), for an attempt that succeeded or never ran. */
  forgive(): Promise<void>;
}

/** A login attempt in flight on this node. */
interface Attempt {
  holding: boolean;
  ended: Promise<void>;
}

/**
 * Login throttling on shared counters (the store), by account and by client IP. Only
 * failures count. During a back-off every attempt for the identifier is refused, even
 * with the right password, and unknown identifiers are throttled exactly like known ones.
 * There is no permanent lockout: back-offs are capped and counters expire with their window.
 */
export class LoginThrottle {
  #store: RateLimitStore;
  #clock: () => number;
  /** Attempts in flight on this node, by identifier. */
  #pending = new Map<string, Set<Attempt>>();

  constructor(store: RateLimitStore, clock: () => number) {
    this.#store = store;
    this.#clock = clock;
  }

  /** Seconds to wait before the next attempt on any of these identifiers, or 0. */
  async retryAfter(targets: readonly [key: string, rule: ThrottleRule][]): Promise<number> {
    const now = this.#clock();
    let wait = 0;
    for (const [key, rule] of targets) {
      const failures = await this.#store.get(key, now);
      if (failures) wait = Math.max(wait, blockedFor(rule, failures, now));
    }
    return Math.ceil(wait / 1000);
  }

  /**
   * Checks the back-off of one identifier and, when it is clear, charges this attempt as a
   * failure before the (slow) check runs; a success then {@link succeed}s it away, or calls the
   * returned `forgive` to take back only this charge. Without the charge, a burst of concurrent
   * guesses would all pass the check before any failure was recorded. Of attempts racing past one
   * back-off, only the one whose charge directly follows what it saw goes ahead (the counter is
   * atomic in every store, so this holds across nodes). `wait` is the seconds to wait, or 0.
   * `charging` is called just before the charge is made.
   */
  async claim(key: string, rule: ThrottleRule, charging?: () => void): Promise<Claim> {
    const now = this.#clock();
    const seen = await this.#store.get(key, now);
    const wait = seen ? blockedFor(rule, seen, now) : 0;
    if (wait > 0) return { wait: Math.ceil(wait / 1000), forgive: async () => {} };
    // Told in the same tick as the charge is asked for, so nobody can see the charge before it.
    charging?.();
    const charged = await this.#store.recordFailure(key, now, rule.windowMs);
    // Taking the charge back also puts lastAt back, so a success does not restart the back-off.
    const forgive = () => this.#store.forgive(key, this.#clock(), { ifAt: charged.lastAt, to: seen?.lastAt ?? charged.lastAt });
    if (charged.count <= rule.free || charged.count === (seen?.count ?? 0) + 1) return { wait: 0, forgive };
    return { wait: Math.max(1, Math.ceil(blockedFor(rule, charged, now) / 1000)), forgive };
  }

  /**
   * Marks an attempt on these identifiers as in flight on this node; `hold()` marks it as holding
   * charges (pass it to {@link claim}); `end()` unmarks it, whatever the outcome.
   */
  begin(keys: readonly string[]): { hold(): void; end(): void } {
    let end!: () => void;
    const attempt: Attempt = {
      holding: false,
      ended: new Promise<void>((resolve) => {
        end = resolve;
      }),
    };
    for (const key of keys) {
      const set = this.#pending.get(key) ?? new Set<Attempt>();
      set.add(attempt);
      this.#pending.set(key, set);
    }
    return {
      hold: () => {
        attempt.holding = true;
      },
      end: () => {
        for (const key of keys) {
          const set = this.#pending.get(key);
          set?.delete(attempt);
          if (set?.size === 0) this.#pending.delete(key);
        }
        end();
      },
    };
  }

  /**
   * After a refusal, what a login should do: `retry` when nothing blocks it any more (the charges
   * that refused it were taken back meanwhile); `wait` when every identifier that blocks it has
   * attempts in flight on this node holding charges on it (a success clears the account's counter
   * and takes back its charge on the address); `refuse` when one is blocked with nothing in flight
   * that could clear it: a back-off earned by recorded failures.
   */
  async afterRefusal(targets: readonly [key: string, rule: ThrottleRule][]): Promise<'retry' | 'wait' | 'refuse'> {
    const now = this.#clock();
    let verdict: 'retry' | 'wait' = 'retry';
    for (const [key, rule] of targets) {
      const failures = await this.#store.get(key, now);
      if (!failures || blockedFor(rule, failures, now) === 0) continue;
      if (this.#holders(key).length === 0) return 'refuse';
      verdict = 'wait';
    }
    return verdict;
  }

  #holders(key: string): Attempt[] {
    return [...(this.#pending.get(key) ?? [])].filter((a) => a.holding);
  }

  /** Settles once every attempt now holding charges on these identifiers (on this node) has ended; null when there is none. */
  inFlight(keys: readonly string[]): Promise<void> | null {
    const attempts = keys.flatMap((key) => this.#holders(key));
    return attempts.length === 0 ? null : Promise.all(attempts.map((a) => a.ended)).then(() => undefined);
  }

  /** Records one failure after the fact, for checks too frequent to charge in advance. */
  async fail(key: string, rule: ThrottleRule): Promise<void> {
    await this.#store.recordFailure(key, this.#clock(), rule.windowMs);
  }

  async succeed(key: string): Promise<void> {
    await this.#store.reset(key);
  }
}

/**
 * Per client IP, for sign-ups answered `email_taken` (which reveal that an account exists):
 * 10 an hour freely, then the same back-off as logins, never more than 100 in an hour.
 */
export const REGISTRATION_RULE: ThrottleRule = { free: 10, maxDelayMs: 15 * 60_000, windowMs: 3_600_000, hardCap: 100 };

/** Per configured client id and client IP, for wrong secrets at the RFC 7662 introspection endpoint. */
export const CLIENT_AUTH_RULE: ThrottleRule = { free: 10, maxDelayMs: 15 * 60_000, windowMs: 3_600_000, hardCap: 1000 };

/** Throttle identifier of resource-server client authentication: the configured client id and the client IP. */
export function clientAuthTarget(clientId: string, ip: string): [key: string, rule: ThrottleRule] {
  return [`client:${clientId}:ip:${ip}`, CLIENT_AUTH_RULE];
}

/** Throttle identifier of a sign-up: the client IP. */
export function registrationTarget(ip: string): [key: string, rule: ThrottleRule] {
  return [`register:ip:${ip}`, REGISTRATION_RULE];
}

/** Throttle identifiers of a login: the account (normalised email, known or not) and the client IP. */
export function loginTargets(email: string, ip: string): [account: [string, ThrottleRule], ip: [string, ThrottleRule]] {
  return [
    [`login:acct:${email}`, ACCOUNT_RULE],
    [`login:ip:${ip}`, IP_RULE],
  ];
}
