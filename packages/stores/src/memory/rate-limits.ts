import type { FailureCount, RateLimitStore } from '../types.js';

interface Counter {
  count: number;
  lastAt: number;
  /** First instant outside the window (window start + windowMs). */
  windowEndsAt: number;
}

/** How many recordFailure calls between sweeps of counters whose window has passed. */
const SWEEP_EVERY = 1024;

/**
 * In-process {@link RateLimitStore}. The interface has no delete-expired method, yet an attacker
 * can spray failures over many identifiers; an amortised sweep keeps memory bounded by the
 * identifiers seen within one window.
 */
export function createMemoryRateLimitStore(): RateLimitStore {
  const counters = new Map<string, Counter>();
  let sinceSweep = 0;

  const sweep = (now: number): void => {
    for (const [key, c] of counters) if (c.windowEndsAt <= now) counters.delete(key);
  };

  return {
    async recordFailure(key, now, windowMs) {
      if (++sinceSweep >= SWEEP_EVERY) {
        sinceSweep = 0;
        sweep(now);
      }
      let c = counters.get(key);
      if (!c || c.windowEndsAt <= now) {
        c = { count: 0, lastAt: now, windowEndsAt: now + windowMs };
        counters.set(key, c);
      }
      c.count++;
      c.lastAt = now;
      return { count: c.count, lastAt: c.lastAt };
    },

    async get(key, now): Promise<FailureCount | null> {
      const c = counters.get(key);
      if (!c) return null;
      if (c.windowEndsAt <= now) {
        counters.delete(key);
        return null;
      }
      return { count: c.count, lastAt: c.lastAt };
    },

    async reset(key) {
      counters.delete(key);
    },

    async forgive(key, now, restore) {
      const c = counters.get(key);
      if (!c || c.windowEndsAt <= now || c.count === 0) return;
      c.count--;
      if (restore && c.lastAt === restore.ifAt) c.lastAt = restore.to;
    },
  };
}
