import { expect, it } from 'vitest';
import type { Stores } from '../types.js';
import { T0 } from './fixtures.js';

const WINDOW = 15 * 60_000;

/** RateLimitStore: fixed windows from the first failure, atomic counting, reset. */
export function rateLimitContract(stores: () => Stores): void {
  it('rate limits: recordFailure counts within the window; get reads it', async () => {
    const rl = stores().rateLimits;
    expect(await rl.get('login:a@example.test', T0)).toBeNull();
    expect(await rl.recordFailure('login:a@example.test', T0, WINDOW)).toEqual({ count: 1, lastAt: T0 });
    expect(await rl.recordFailure('login:a@example.test', T0 + 10, WINDOW)).toEqual({ count: 2, lastAt: T0 + 10 });
    expect(await rl.recordFailure('login:a@example.test', T0 + 20, WINDOW)).toEqual({ count: 3, lastAt: T0 + 20 });
    expect(await rl.get('login:a@example.test', T0 + 30)).toEqual({ count: 3, lastAt: T0 + 20 });
    expect(await rl.get('login:b@example.test', T0 + 30)).toBeNull();
  });

  it('rate limits: the window runs from the first failure, and a failure after it starts a new one', async () => {
    const rl = stores().rateLimits;
    await rl.recordFailure('k', T0, WINDOW);
    // Failures inside the window do not extend it.
    await rl.recordFailure('k', T0 + WINDOW - 1, WINDOW);
    expect(await rl.get('k', T0 + WINDOW - 1)).toEqual({ count: 2, lastAt: T0 + WINDOW - 1 });
    expect(await rl.recordFailure('k', T0 + WINDOW, WINDOW)).toEqual({ count: 1, lastAt: T0 + WINDOW });
    expect(await rl.recordFailure('k', T0 + WINDOW + 1, WINDOW)).toEqual({ count: 2, lastAt: T0 + WINDOW + 1 });
  });

  it('rate limits: get is null once the window has passed', async () => {
    const rl = stores().rateLimits;
    await rl.recordFailure('k', T0, WINDOW);
    expect(await rl.get('k', T0 + WINDOW - 1)).toEqual({ count: 1, lastAt: T0 });
    expect(await rl.get('k', T0 + WINDOW)).toBeNull();
    expect(await rl.get('k', T0 + 2 * WINDOW)).toBeNull();
  });

  it('rate limits: reset clears the counter', async () => {
    const rl = stores().rateLimits;
    await rl.recordFailure('k', T0, WINDOW);
    await rl.recordFailure('other', T0, WINDOW);
    await rl.reset('k');
    expect(await rl.get('k', T0 + 1)).toBeNull();
    expect(await rl.recordFailure('k', T0 + 2, WINDOW)).toEqual({ count: 1, lastAt: T0 + 2 });
    expect(await rl.get('other', T0 + 2)).toEqual({ count: 1, lastAt: T0 });
    await expect(rl.reset('never-seen')).resolves.toBeUndefined();
  });

  it('rate limits: forgive takes back one failure, never below zero, and not after the window', async () => {
    const rl = stores().rateLimits;
    await rl.recordFailure('k', T0, WINDOW);
    await rl.recordFailure('k', T0 + 1, WINDOW);
    await rl.forgive('k', T0 + 2);
    expect(await rl.get('k', T0 + 2)).toEqual({ count: 1, lastAt: T0 + 1 });
    await rl.forgive('k', T0 + 3);
    await rl.forgive('k', T0 + 4);
    expect(await rl.get('k', T0 + 4)).toEqual({ count: 0, lastAt: T0 + 1 });
    expect(await rl.recordFailure('k', T0 + 5, WINDOW)).toEqual({ count: 1, lastAt: T0 + 5 });
    await rl.forgive('k', T0 + WINDOW);
    expect(await rl.recordFailure('k', T0 + WINDOW, WINDOW)).toEqual({ count: 1, lastAt: T0 + WINDOW });
    await expect(rl.forgive('never-seen', T0)).resolves.toBeUndefined();
    expect(await rl.get('never-seen', T0)).toBeNull();
  });

  it("rate limits: forgive restores lastAt only while it is still the forgiven charge's", async () => {
    const rl = stores().rateLimits;
    await rl.recordFailure('k', T0, WINDOW);
    await rl.recordFailure('k', T0 + 100, WINDOW); // the charge of an attempt that will succeed
    await rl.forgive('k', T0 + 200, { ifAt: T0 + 100, to: T0 });
    expect(await rl.get('k', T0 + 200)).toEqual({ count: 1, lastAt: T0 });
    // A failure recorded after the charge keeps its own lastAt.
    await rl.recordFailure('k', T0 + 300, WINDOW);
    await rl.recordFailure('k', T0 + 400, WINDOW);
    await rl.forgive('k', T0 + 500, { ifAt: T0 + 300, to: T0 });
    expect(await rl.get('k', T0 + 500)).toEqual({ count: 2, lastAt: T0 + 400 });
  });

  // Online guessing: parallel wrong passwords must each count, or throttling is bypassed.
  it('rate limits: 30 concurrent failures each count once', async () => {
    const rl = stores().rateLimits;
    const results = await Promise.all(Array.from({ length: 30 }, () => rl.recordFailure('k', T0, WINDOW)));
    expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(await rl.get('k', T0)).toEqual({ count: 30, lastAt: T0 });
  });
}
