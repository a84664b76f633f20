import { type FailureCount, isStoreUnavailable, type RateLimitStore } from '@tessera/stores';
import { clientAddressKey } from './client-address.js';
import { RefusalCodes, Refused } from './errors.js';

/** How failures on one identifier are throttled. */
export interface ThrottleRule {
  /** Failures allowed before any back-off. */
  free: number;
  /** Longest single back-off, ms. */
  maxDelayMs: number;
  /** Failures counted per window; at most `hardCap` per window, then blocked until it ends. */
  windowMs: number;
  hardCap: number;
  /**
   * What a success does to the identifier's counter in {@link LoginThrottle.attempt}: `reset`
   * clears it (the account's owner proved themselves), `forgive` takes back only this attempt's
   * charge (an address may carry other people's failures).
   */
  onSuccess: 'reset' | 'forgive';
}

/** Per account: 5 free failures, then 1 s, 2 s, 4 s … up to 15 min; never more than 100 in an hour (in practice under 20). */
export const ACCOUNT_RULE: ThrottleRule = { free: 5, maxDelayMs: 15 * 60_000, windowMs: 3_600_000, hardCap: 100, onSuccess: 'reset' };
/** Per client IP: more room (NAT, shared offices), same shape. */
export const IP_RULE: ThrottleRule = { free: 20, maxDelayMs: 15 * 60_000, windowMs: 3_600_000, hardCap: 1000, onSuccess: 'forgive' };

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

/** An identifier to throttle and the rule it is throttled by. */
export type ThrottleTarget = readonly [key: string, rule: ThrottleRule];

/** What {@link LoginThrottle.claim} answers: seconds to wait (0: go ahead), and how to take the charge back. */
export interface Claim {
  wait: number;
  /** Takes back this attempt's charge alone (earlier failures stay), for an attempt that succeeded or never ran. */
  forgive(): Promise<void>;
}

/** A guarded attempt in flight on this node. */
interface InFlight {
  holding: boolean;
  ended: Promise<void>;
}

/** Most rounds an attempt waits for this node's other attempts in flight before it is refused as throttled. */
const MAX_WAIT_ROUNDS = 50;

/** The refusal of an attempt made during a back-off. */
function throttled(wait: number): Refused {
  return new Refused(RefusalCodes.THROTTLED, 'too many failed attempts; retry later', { retryAfter: wait });
}

/**
 * Throttling of guessable checks (passwords, sign-ups) on shared counters (the store). Only
 * failures count. During a back-off every attempt for the identifier is refused, even with the
 * right password, and unknown identifiers are throttled exactly like known ones. There is no
 * permanent lockout: back-offs are capped and counters expire with their window.
 */
export class LoginThrottle {
  #store: RateLimitStore;
  #clock: () => number;
  /** Attempts in flight on this node, by identifier. */
  #pending = new Map<string, Set<InFlight>>();

  constructor(store: RateLimitStore, clock: () => number) {
    this.#store = store;
    this.#clock = clock;
  }

  /**
   * Runs one guarded check: `run` resolves for a success (its value is returned) and throws for
   * a failure (the error is rethrown). Throws {@link Refused} `THROTTLED` instead of running it
   * during a back-off on any target.
   *
   * Every target is charged as a failure before `run` starts (see {@link claim}), so a burst of
   * parallel guesses meets the back-off at once instead of after every guess already ran. A
   * success takes the charges back as each rule says (`onSuccess`): the account's counter is
   * cleared, the address loses only this attempt's charge (one good password must not wipe out
   * the failures of a spraying address). A failure leaves them counted. A check that failed
   * because its store was unavailable (`isStoreUnavailable`) checked nothing: its charges are
   * taken back, and the error is rethrown (a 503).
   *
   * Parallel attempts with the right password must not turn each other away: an attempt refused
   * while other attempts of this node hold charges on what blocks it waits for them to end and
   * asks again, since a success takes its charges back. A back-off earned by recorded failures,
   * with nothing in flight that could clear it, is refused at once.
   *
   * @example
   * const user = await throttle.attempt(loginTargets(email, ip), () => checkPassword(email, password));
   */
  async attempt<T>(targets: readonly ThrottleTarget[], run: () => Promise<T>): Promise<T> {
    const keys = targets.map(([key]) => key);
    let mark = this.#begin(keys);
    try {
      let claims: Claim[];
      for (let round = 0; ; round++) {
        const outcome = await this.#claimAll(targets, mark.hold);
        if (outcome.wait === 0) {
          claims = outcome.claims;
          break;
        }
        mark.end();
        const next = round < MAX_WAIT_ROUNDS ? await this.#afterRefusal(targets) : 'refuse';
        if (next === 'refuse') throw throttled(outcome.wait);
        if (next === 'wait') await this.#inFlight(keys);
        mark = this.#begin(keys);
      }
      let value: T;
      try {
        value = await run();
      } catch (err) {
        // A check its store could not answer (an outage) verified nothing: no guess was made, so
        // its charges are taken back, or an outage would throttle every client that kept trying.
        // Best effort: a take-back that fails too leaves that charge counted.
        if (isStoreUnavailable(err)) await Promise.allSettled(claims.map((claim) => claim.forgive()));
        throw err;
      }
      // Independent identifiers: taken back together (one round trip to a shared store).
      await Promise.all(targets.map(([key, rule], i) => (rule.onSuccess === 'reset' ? this.#store.reset(key) : claims[i]?.forgive())));
      return value;
    } finally {
      // Always unmarked, whatever threw (a store error included): a mark left behind would make
      // later attempts wait on it.
      mark.end();
    }
  }

  /** Seconds to wait before the next attempt on any of these identifiers, or 0. */
  async retryAfter(targets: readonly ThrottleTarget[]): Promise<number> {
    const now = this.#clock();
    const failures = await Promise.all(targets.map(([key]) => this.#store.get(key, now)));
    let wait = 0;
    for (const [i, [, rule]] of targets.entries()) {
      const counted = failures[i];
      if (counted) wait = Math.max(wait, blockedFor(rule, counted, now));
    }
    return Math.ceil(wait / 1000);
  }

  /**
   * Checks the back-off of one identifier and, when it is clear, charges this attempt as a
   * failure before the (slow) check runs; a success then takes it back. Without the charge, a
   * burst of concurrent guesses would all pass the check before any failure was recorded. Of
   * attempts racing past one back-off, only the one whose charge directly follows what it saw
   * goes ahead (the counter is atomic in every store, so this holds across nodes). `wait` is the
   * seconds to wait, or 0. `charging` is called just before the charge is made.
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

  /** Records one failure after the fact, for checks too frequent to charge in advance. */
  async fail(key: string, rule: ThrottleRule): Promise<void> {
    await this.#store.recordFailure(key, this.#clock(), rule.windowMs);
  }

  /**
   * Charges every target in order; the first one refused takes back the charges already made,
   * its own included (no guess happened). Clear targets are first read together, so a blocked address does not
   * charge the account.
   */
  async #claimAll(targets: readonly ThrottleTarget[], charging: () => void): Promise<{ wait: number; claims: Claim[] }> {
    const wait = await this.retryAfter(targets);
    if (wait > 0) return { wait, claims: [] };
    const claims: Claim[] = [];
    for (const [key, rule] of targets) {
      const claim = await this.claim(key, rule, charging);
      if (claim.wait > 0) {
        // Its own charge too (a racer refused after charging): left behind, the charges of
        // parallel successes refused by each other would add up to a back-off nobody earned.
        for (const made of [...claims, claim]) await made.forgive();
        return { wait: claim.wait, claims: [] };
      }
      claims.push(claim);
    }
    return { wait: 0, claims };
  }

  /**
   * Marks an attempt on these identifiers as in flight on this node; `hold()` marks it as holding
   * charges (passed to {@link claim}); `end()` unmarks it, whatever the outcome.
   */
  #begin(keys: readonly string[]): { hold(): void; end(): void } {
    let end!: () => void;
    const attempt: InFlight = {
      holding: false,
      ended: new Promise<void>((resolve) => {
        end = resolve;
      }),
    };
    for (const key of keys) {
      const set = this.#pending.get(key) ?? new Set<InFlight>();
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
   * After a refusal, what an attempt should do: `retry` when nothing blocks it any more (the
   * charges that refused it were taken back meanwhile); `wait` when every identifier that blocks
   * it has attempts in flight on this node holding charges on it; `refuse` when one is blocked
   * with nothing in flight that could clear it: a back-off earned by recorded failures.
   */
  async #afterRefusal(targets: readonly ThrottleTarget[]): Promise<'retry' | 'wait' | 'refuse'> {
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

  #holders(key: string): InFlight[] {
    return [...(this.#pending.get(key) ?? [])].filter((a) => a.holding);
  }

  /** Settles once every attempt now holding charges on these identifiers (on this node) has ended. */
  async #inFlight(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.flatMap((key) => this.#holders(key)).map((a) => a.ended));
  }
}

/**
 * Per client IP, for sign-ups answered `email_taken` (which reveal that an account exists):
 * 10 an hour freely, then the same back-off as logins, never more than 100 in an hour.
 */
export const REGISTRATION_RULE: ThrottleRule = {
  free: 10,
  maxDelayMs: 15 * 60_000,
  windowMs: 3_600_000,
  hardCap: 100,
  onSuccess: 'forgive',
};

/** Per configured client id and client IP, for resource-server secrets (RFC 7662 introspection, the revocation feed). */
export const CLIENT_AUTH_RULE: ThrottleRule = {
  free: 10,
  maxDelayMs: 15 * 60_000,
  windowMs: 3_600_000,
  hardCap: 1000,
  onSuccess: 'forgive',
};

/** Throttle identifier of resource-server client authentication: the configured client id and the client IP. */
export function clientAuthTarget(clientId: string, ip: string): ThrottleTarget {
  return [`client:${clientId}:ip:${clientAddressKey(ip)}`, CLIENT_AUTH_RULE];
}

/** Throttle identifier of a sign-up: the client IP. */
export function registrationTarget(ip: string): ThrottleTarget {
  return [`register:ip:${clientAddressKey(ip)}`, REGISTRATION_RULE];
}

/**
 * Per client IP, for account creation itself: `perHour` sign-ups an hour (TESSERA_SIGNUPS_PER_HOUR),
 * then blocked until the hour has passed; no back-off in between (free = hardCap). Every sign-up
 * counts, successful or not: it is charged with {@link LoginThrottle.claim} and never forgiven, so
 * `onSuccess` (which only {@link LoginThrottle.attempt} reads) plays no part.
 */
export function signupRule(perHour: number): ThrottleRule {
  return { free: perHour, maxDelayMs: 3_600_000, windowMs: 3_600_000, hardCap: perHour, onSuccess: 'forgive' };
}

/** Throttle identifier of account creation: the client IP, with {@link signupRule}. */
export function signupTarget(ip: string, perHour: number): ThrottleTarget {
  return [`signup:ip:${clientAddressKey(ip)}`, signupRule(perHour)];
}

/** Throttle identifiers of a login: the account (normalised email, known or not) and the client address ({@link clientAddressKey}). */
export function loginTargets(email: string, ip: string): [account: ThrottleTarget, ip: ThrottleTarget] {
  return [
    [`login:acct:${email}`, ACCOUNT_RULE],
    [`login:ip:${clientAddressKey(ip)}`, IP_RULE],
  ];
}
